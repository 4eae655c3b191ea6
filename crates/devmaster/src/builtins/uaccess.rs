//! The `uaccess` builtin of udev 252 (`RUN{builtin}+="uaccess"` of `73-seat-late.rules`,
//! for devices tagged `uaccess`): it gives the user of the active session on the device's
//! seat an ACL on the device node, through systemd-logind. udev does nothing when logind
//! is not running (no `/run/systemd/seats/`), and neither do we; with logind running, the
//! ACL is not set yet (an error says so, once per event, instead of pretending).

use super::{Output, System};
use crate::rules::subst::Device;

/// Runs `uaccess`.
pub fn run(_device: &dyn Device, system: &dyn System, _args: &[String]) -> Result<Output, String> {
    if system.read_dir("/run/systemd/seats").is_none() {
        return Ok(Output::default());
    }
    Err("uaccess: systemd-logind is running, but seat ACLs are not supported yet".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testsys::FakeSys;

    struct Seats(bool);
    impl System for Seats {
        fn read(&self, _: &str) -> Option<Vec<u8>> {
            None
        }
        fn read_dir(&self, path: &str) -> Option<Vec<String>> {
            (self.0 && path == "/run/systemd/seats").then(|| vec!["seat0".to_string()])
        }
        fn read_at(&self, _: &str, _: u64, _: usize) -> Option<Vec<u8>> {
            None
        }
    }

    #[test]
    fn nothing_to_do_without_logind_an_error_with_it() {
        let s = FakeSys::new();
        s.add("/devices/virtual/sound/card0", Some("sound"), "");
        let dev = s.tree().device("/devices/virtual/sound/card0").unwrap();
        assert_eq!(run(&dev, &Seats(false), &[]), Ok(Output::default()));
        assert!(run(&dev, &Seats(true), &[]).is_err());
    }
}
