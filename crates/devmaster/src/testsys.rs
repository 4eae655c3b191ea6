//! A fake sysfs for tests: device directories with `uevent` files, `subsystem` and `driver`
//! links into `class/` or `bus/`, the `class/<subsystem>/<name>` links back, and attributes.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::device::SysfsTree;

/// Subsystems that live under `class/` (the rest go under `bus/`).
const CLASSES: [&str; 6] = ["block", "net", "tty", "input", "mem", "sound"];

pub struct FakeSys {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl FakeSys {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("sys");
        fs::create_dir_all(root.join("devices")).unwrap();
        FakeSys { _dir: dir, root }
    }

    pub fn tree(&self) -> SysfsTree {
        SysfsTree::new(&self.root)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self, devpath: &str) -> PathBuf {
        self.root.join(devpath.trim_start_matches('/'))
    }

    /// A device at `devpath` with a `uevent` file and, when given, a subsystem.
    pub fn add(&self, devpath: &str, subsystem: Option<&str>, uevent: &str) -> &Self {
        let d = self.dir(devpath);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("uevent"), uevent).unwrap();
        if let Some(s) = subsystem {
            let (home, list) = if CLASSES.contains(&s) {
                (
                    self.root.join("class").join(s),
                    self.root.join("class").join(s),
                )
            } else {
                let b = self.root.join("bus").join(s);
                (b.clone(), b.join("devices"))
            };
            fs::create_dir_all(&home).unwrap();
            fs::create_dir_all(&list).unwrap();
            symlink(&home, d.join("subsystem")).unwrap();
            let name = devpath.rsplit('/').next().unwrap();
            let _ = symlink(&d, list.join(name));
        }
        self
    }

    /// Binds `driver` (a `bus/<bus>/drivers/<driver>` link, and `DRIVER=` in the `uevent`
    /// file, which the kernel writes for a bound device).
    pub fn driver(&self, devpath: &str, bus: &str, driver: &str) -> &Self {
        let t = self.root.join("bus").join(bus).join("drivers").join(driver);
        fs::create_dir_all(&t).unwrap();
        symlink(&t, self.dir(devpath).join("driver")).unwrap();
        let uevent = self.dir(devpath).join("uevent");
        let mut text = fs::read_to_string(&uevent).unwrap_or_default();
        text.push_str(&format!("DRIVER={driver}\n"));
        fs::write(uevent, text).unwrap();
        self
    }

    /// A regular attribute file (may be in a subdirectory).
    pub fn attr(&self, devpath: &str, name: &str, value: &str) -> &Self {
        let p = self.dir(devpath).join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, value).unwrap();
        self
    }

    /// A symlink attribute pointing at `target` (inside the tree).
    pub fn link(&self, devpath: &str, name: &str, target: &str) -> &Self {
        let t = self.dir(target);
        fs::create_dir_all(&t).unwrap();
        symlink(t, self.dir(devpath).join(name)).unwrap();
        self
    }

    /// A PCI host with a SCSI disk `sda` (8:0, model "Fast Disk  \n", vendor "ACME") and a
    /// partition `sda1` (8:1); the disk's parent chain is pci → host0 → target → 0:0:0:0.
    pub fn disk() -> Self {
        let s = FakeSys::new();
        let pci = "/devices/pci0000:00/0000:00:1f.2";
        let scsi = format!("{pci}/ata1/host0/target0:0:0/0:0:0:0");
        let sda = format!("{scsi}/block/sda");
        s.add(pci, Some("pci"), "DRIVER=ahci\nPCI_ID=8086:2922\n")
            .driver(pci, "pci", "ahci")
            .attr(pci, "vendor", "0x8086\n")
            .add(&format!("{pci}/ata1"), None, "DEVTYPE=ata_port\n")
            .add(
                &format!("{pci}/ata1/host0"),
                Some("scsi"),
                "DEVTYPE=scsi_host\n",
            )
            .add(
                &format!("{pci}/ata1/host0/target0:0:0"),
                Some("scsi"),
                "DEVTYPE=scsi_target\n",
            )
            .add(&scsi, Some("scsi"), "DEVTYPE=scsi_device\n")
            .driver(&scsi, "scsi", "sd")
            .attr(&scsi, "vendor", "ACME    \n")
            .attr(&scsi, "model", "Fast Disk  \n")
            .attr(&scsi, "type", "0\n")
            .add(
                &sda,
                Some("block"),
                "MAJOR=8\nMINOR=0\nDEVNAME=sda\nDEVTYPE=disk\n",
            )
            .attr(&sda, "size", "2048\n")
            .attr(&sda, "removable", "0\n")
            .attr(&sda, "queue/rotational", "1\n")
            .add(
                &format!("{sda}/sda1"),
                Some("block"),
                "MAJOR=8\nMINOR=1\nDEVNAME=sda1\nDEVTYPE=partition\nPARTN=1\n",
            )
            .attr(&format!("{sda}/sda1"), "size", "1024\n")
            .attr(&format!("{sda}/sda1"), "start", "2048\n");
        s
    }

    pub const SDA: &'static str =
        "/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda";
    pub const SDA1: &'static str =
        "/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1";

    /// A virtual network interface `eth0` (ifindex 2) under a PCI device with driver e1000.
    pub fn net() -> Self {
        let s = FakeSys::new();
        let pci = "/devices/pci0000:00/0000:00:03.0";
        let eth = format!("{pci}/net/eth0");
        s.add(pci, Some("pci"), "DRIVER=e1000\n")
            .driver(pci, "pci", "e1000")
            .add(&eth, Some("net"), "INTERFACE=eth0\nIFINDEX=2\n")
            .attr(&eth, "address", "52:54:00:12:34:56\n")
            .attr(&eth, "type", "1\n");
        s
    }

    pub const ETH0: &'static str = "/devices/pci0000:00/0000:00:03.0/net/eth0";
}
