//! The `kmod` builtin of systemd 252: `kmod load [module...]` asks for kernel modules by
//! name or alias, the event's `MODALIAS` when none is named. Loading itself (libkmod's
//! alias resolution, blacklists, `modprobe.d` options) is the worker's, through
//! [`Action::LoadModules`]. udevd silently does nothing when it has no module index; that
//! is also left to the worker.

use super::{Action, Output, System};
use crate::rules::subst::Device;

/// Runs `kmod` with `args` (the words after `kmod`). `Err` when the first word is not
/// `load`, or when no module is named and the device has no `MODALIAS`.
pub fn run(device: &dyn Device, _system: &dyn System, args: &[String]) -> Result<Output, String> {
    let Some(("load", modules)) = args.split_first().map(|(a, rest)| (a.as_str(), rest)) else {
        return Err("kmod: expected: load [module…]".to_string());
    };
    let modules = if modules.is_empty() {
        vec![device
            .property("MODALIAS")
            .ok_or("kmod: the device has no MODALIAS")?]
    } else {
        modules.to_vec()
    };
    Ok(Output {
        properties: Vec::new(),
        actions: vec![Action::LoadModules(modules)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::fake::TreeSystem;
    use crate::testsys::FakeSys;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn load_named_modules_or_the_modalias() {
        let s = FakeSys::new();
        s.add(
            "/devices/pci0000:00/0000:00:03.0",
            Some("pci"),
            "MODALIAS=pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i00\n",
        );
        s.add("/devices/platform/foo", Some("platform"), "");
        let sys = TreeSystem::fake(&s);
        let pci = s.tree().device("/devices/pci0000:00/0000:00:03.0").unwrap();
        let foo = s.tree().device("/devices/platform/foo").unwrap();
        let load = |d: &dyn Device, a: &str| run(d, &sys, &words(a)).map(|o| o.actions);
        assert_eq!(
            load(&pci, "load e1000 loop"),
            Ok(vec![Action::LoadModules(words("e1000 loop"))])
        );
        assert_eq!(
            load(&pci, "load"),
            Ok(vec![Action::LoadModules(words(
                "pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i00"
            ))])
        );
        assert!(load(&foo, "load").is_err());
        assert!(load(&pci, "").is_err());
        assert!(load(&pci, "unload e1000").is_err());
        assert_eq!(
            run(&pci, &sys, &words("load x")).unwrap().properties,
            vec![]
        );
    }
}
