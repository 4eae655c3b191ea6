//! `CONST{virt}`: systemd-detect-virt's answer (systemd 252's `detect_virtualization`: a
//! container first, then a virtual machine, else `none`), from files only.
//!
//! Container: OpenVZ (`/proc/vz` without `/proc/bc`), WSL (`/proc/sys/kernel/osrelease`),
//! `/run/host/container-manager`, `/run/systemd/container`, `container=` in PID 1's
//! environment (`$container` when we are PID 1), then `/run/.containerenv` (podman) and
//! `/.dockerenv` (docker). The cgroup-namespace guess of systemd is left out.
//!
//! Virtual machine: the DMI vendor strings under `/sys/class/dmi/id` as systemd matches
//! them (Oracle, Xen and Amazon decide at once), `/sys/hypervisor/type` for Xen; systemd's
//! CPUID hypervisor signature is replaced by what the kernel shows of it: the `kvm-clock`
//! clock source means KVM (a QEMU DMI under KVM is "kvm", as systemd says), Hyper-V's
//! clock source Microsoft; otherwise the DMI answer, otherwise the `hypervisor` CPU flag
//! means "vm-other".

use std::fs;

use super::host::map_path;
use super::Paths;

const CONTAINERS: [&str; 10] = [
    "openvz",
    "lxc",
    "lxc-libvirt",
    "systemd-nspawn",
    "docker",
    "podman",
    "rkt",
    "wsl",
    "proot",
    "pouch",
];

fn first_line(path: &str) -> Option<String> {
    let s = fs::read_to_string(path).ok()?;
    let l = s.lines().next().unwrap_or_default().trim().to_string();
    (!l.is_empty()).then_some(l)
}

/// systemd's translation of a container manager's name.
fn container_name(name: &str) -> String {
    if name == "oci" {
        return container_files().unwrap_or("container-other").to_string();
    }
    if CONTAINERS.contains(&name) {
        name.to_string()
    } else {
        "container-other".to_string()
    }
}

fn container_files() -> Option<&'static str> {
    if fs::metadata("/run/.containerenv").is_ok() {
        Some("podman")
    } else if fs::metadata("/.dockerenv").is_ok() {
        Some("docker")
    } else {
        None
    }
}

/// The container this runs in, `None` outside one.
pub fn detect_container() -> Option<String> {
    if fs::metadata("/proc/vz").is_ok() && fs::metadata("/proc/bc").is_err() {
        return Some("openvz".into());
    }
    if let Some(o) = first_line("/proc/sys/kernel/osrelease") {
        if o.contains("Microsoft") || o.contains("WSL") {
            return Some("wsl".into());
        }
    }
    if let Some(m) = first_line("/run/host/container-manager") {
        return Some(container_name(&m));
    }
    let manager = if std::process::id() == 1 {
        match std::env::var("container") {
            Ok(v) if v.is_empty() => return None,
            Ok(v) => Some(v),
            Err(_) => None,
        }
    } else {
        first_line("/run/systemd/container").or_else(|| {
            let env = fs::read("/proc/1/environ").ok()?;
            env.split(|b| *b == 0)
                .filter_map(|kv| kv.strip_prefix(b"container="))
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .next_back()
        })
    };
    if let Some(m) = manager {
        return Some(container_name(&m));
    }
    container_files().map(str::to_string)
}

/// systemd's DMI vendor table: a prefix of a vendor string and the answer.
const DMI_VENDORS: [(&str, &str); 17] = [
    ("KVM", "kvm"),
    ("OpenStack", "kvm"),
    ("KubeVirt", "kvm"),
    ("Amazon EC2", "amazon"),
    ("QEMU", "qemu"),
    ("VMware", "vmware"),
    ("VMW", "vmware"),
    ("innotek GmbH", "oracle"),
    ("VirtualBox", "oracle"),
    ("Oracle Corporation", "oracle"),
    ("Xen", "xen"),
    ("Bochs", "bochs"),
    ("Parallels", "parallels"),
    ("BHYVE", "bhyve"),
    ("Hyper-V", "microsoft"),
    ("Apple Virtualization", "apple"),
    ("Google Compute Engine", "google"),
];

/// The DMI answer for vendor strings in systemd's order (product name, system vendor,
/// board vendor, BIOS vendor, product version).
pub fn dmi_vendor(strings: &[Option<String>]) -> Option<&'static str> {
    strings.iter().flatten().find_map(|s| {
        DMI_VENDORS
            .iter()
            .find(|(prefix, _)| s.starts_with(prefix))
            .map(|(_, v)| *v)
    })
}

/// The virtual machine this runs in, `None` on bare metal. Reads sysfs under `paths`.
pub fn detect_vm(paths: &Paths) -> Option<String> {
    let read = |p: &str| first_line(&map_path(paths, p).to_string_lossy());
    let dmi = dmi_vendor(
        &[
            "product_name",
            "sys_vendor",
            "board_vendor",
            "bios_vendor",
            "product_version",
        ]
        .map(|f| read(&format!("/sys/class/dmi/id/{f}"))),
    );
    if let Some(v @ ("oracle" | "xen" | "amazon")) = dmi {
        return Some(v.into());
    }
    if read("/sys/hypervisor/type").as_deref() == Some("xen") {
        return Some("xen".into());
    }
    let clocks = read("/sys/devices/system/clocksource/clocksource0/available_clocksource")
        .unwrap_or_default();
    for (clock, vm) in [
        ("kvm-clock", "kvm"),
        ("hyperv_clocksource_tsc_page", "microsoft"),
    ] {
        if clocks.split_whitespace().any(|c| c == clock) {
            return Some(vm.into());
        }
    }
    if let Some(v) = dmi {
        return Some(v.into());
    }
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flagged = cpuinfo
        .lines()
        .filter(|l| l.starts_with("flags"))
        .any(|l| l.split_whitespace().any(|f| f == "hypervisor"));
    flagged.then(|| "vm-other".into())
}

/// `CONST{virt}`: the container, else the virtual machine, else `none`.
pub fn detect(paths: &Paths) -> String {
    detect_container()
        .or_else(|| detect_vm(paths))
        .unwrap_or_else(|| "none".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dmi_table() {
        let s = |v: &str| Some(v.to_string());
        let cases: Vec<(Vec<Option<String>>, Option<&str>)> = vec![
            (vec![None, s("QEMU"), None], Some("qemu")),
            // The product name is read first: KVM wins over a QEMU vendor.
            (vec![s("KVM"), s("QEMU")], Some("kvm")),
            (
                vec![s("Standard PC (Q35 + ICH9, 2009)"), s("QEMU")],
                Some("qemu"),
            ),
            (vec![s("VirtualBox"), s("innotek GmbH")], Some("oracle")),
            (vec![None, s("Dell Inc.")], None),
            (vec![], None),
        ];
        for (strings, want) in cases {
            assert_eq!(dmi_vendor(&strings), want, "{strings:?}");
        }
    }

    #[test]
    fn container_names() {
        assert_eq!(container_name("docker"), "docker");
        assert_eq!(container_name("systemd-nspawn"), "systemd-nspawn");
        assert_eq!(container_name("something"), "container-other");
    }

    /// Oracle: Debian's systemd-detect-virt, where installed.
    #[test]
    fn agrees_with_systemd_detect_virt() {
        let ask = |arg: &str| {
            std::process::Command::new("systemd-detect-virt")
                .arg(arg)
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        let (Some(vm), Some(container)) = (ask("--vm"), ask("--container")) else {
            return;
        };
        let paths = Paths::default();
        assert_eq!(detect_vm(&paths).unwrap_or_else(|| "none".into()), vm);
        assert_eq!(
            detect_container().unwrap_or_else(|| "none".into()),
            container
        );
    }
}
