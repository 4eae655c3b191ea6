//! sd_notify(3) messages to a service: who may send them (`NotifyAccess=`) and what each
//! key does, in the order systemd 252's `service_notify_message` applies them: `MAINPID=`,
//! then the last of `READY=1`/`RELOADING=1`/`STOPPING=1`, `STATUS=`, `ERRNO=`,
//! `EXTEND_TIMEOUT_USEC=`, `WATCHDOG=`, `WATCHDOG_USEC=`. The fd store keys (`FDSTORE=1`,
//! `FDSTOREREMOVE=1`, `FDNAME=`) are not handled here.

use super::{NotifyState, Service, ServiceResult, ServiceState, TimerKind, STATUS_TEXT_MAX};
use unitfile::model::service::{NotifyAccess, ServiceType};
use unitfile::value::USEC_INFINITY;

/// The value of the first `KEY=` line of a message, as systemd's `strv_find_startswith`.
fn first_value<'a>(lines: &[&'a str], key: &str) -> Option<&'a str> {
    lines.iter().find_map(|line| line.strip_prefix(key))
}

/// `ERRNO=`: a non-negative errno number below 4096 (systemd's `parse_errno`, without the
/// symbolic names).
fn parse_errno(s: &str) -> Option<i32> {
    s.parse::<i32>().ok().filter(|n| (0..4096).contains(n))
}

impl Service {
    /// Whether a message from `pid` is accepted (systemd's
    /// `service_notify_message_authorized`).
    fn notify_authorized(&self, pid: u32) -> bool {
        match self.config.notify_access() {
            NotifyAccess::None => false,
            NotifyAccess::Main => self.main_pid() == Some(pid),
            NotifyAccess::Exec => self.main_pid() == Some(pid) || self.control_pid() == Some(pid),
            NotifyAccess::All => true,
        }
    }

    pub(super) fn notify(&mut self, pid: u32, message: &str) {
        use ServiceState::*;
        // No process of the unit runs in these states, so no message can be its own (systemd
        // routes messages to units by the sender's cgroup).
        if matches!(self.rt.state, Dead | Failed | AutoRestart) {
            return;
        }
        if !self.notify_authorized(pid) {
            self.log(format!(
                "Got notification message from PID {pid}, but reception is not permitted for it"
            ));
            return;
        }
        let lines: Vec<&str> = message.split('\n').filter(|l| !l.is_empty()).collect();

        if let Some(value) = first_value(&lines, "MAINPID=") {
            if matches!(self.rt.state, Start | StartPost | Running | Reload) {
                match value.parse::<u32>() {
                    Ok(new) if self.main_pid() != Some(new) => {
                        self.adopt_main_pid(new);
                    }
                    Ok(_) => {}
                    Err(_) => self.log(format!("Failed to parse MAINPID={value}, ignoring")),
                }
            }
        }

        // The last of READY=1, RELOADING=1 and STOPPING=1 wins.
        let verdict = lines
            .iter()
            .rev()
            .find(|l| matches!(**l, "READY=1" | "RELOADING=1" | "STOPPING=1"));
        match verdict.copied() {
            Some("READY=1") => {
                self.rt.notify_state = NotifyState::Ready;
                if self.config.service_type == ServiceType::Notify && self.rt.state == Start {
                    self.enter_start_post();
                }
                // READY=1 also ends a reload the service announced itself.
                if self.rt.state == Reload && self.rt.control.is_none() {
                    self.enter_running(ServiceResult::Success);
                }
            }
            Some("RELOADING=1") => {
                self.rt.notify_state = NotifyState::Reloading;
                if self.rt.state == Running {
                    self.enter_reload_by_notify();
                }
            }
            Some("STOPPING=1") => {
                self.rt.notify_state = NotifyState::Stopping;
                if self.rt.state == Running {
                    self.enter_stop_by_notify();
                }
            }
            _ => {}
        }

        if let Some(text) = first_value(&lines, "STATUS=") {
            if text.is_empty() {
                self.rt.status_text = None;
            } else if text.len() > STATUS_TEXT_MAX {
                self.log("Status message overly long, ignoring.".into());
            } else {
                self.rt.status_text = Some(text.to_string());
            }
        }

        if let Some(value) = first_value(&lines, "ERRNO=") {
            match parse_errno(value) {
                Some(errno) => self.rt.status_errno = Some(errno),
                None => self.log(format!("Failed to parse ERRNO={value}, ignoring")),
            }
        }

        if let Some(value) = first_value(&lines, "EXTEND_TIMEOUT_USEC=") {
            match value.parse::<u64>() {
                Ok(usec) => self.extend_timeout(usec),
                Err(_) => self.log(format!("Failed to parse EXTEND_TIMEOUT_USEC={value}")),
            }
        }

        // The watchdog only runs while the service starts or is up.
        let watchdog_states = matches!(self.rt.state, Start | StartPost | Running | Reload);
        if let Some(value) = first_value(&lines, "WATCHDOG=").filter(|_| watchdog_states) {
            match value {
                "1" => self.reset_watchdog(),
                "trigger" => self.force_watchdog(),
                _ => self.log("Passed WATCHDOG= field is invalid, ignoring.".into()),
            }
        }

        if let Some(value) = first_value(&lines, "WATCHDOG_USEC=").filter(|_| watchdog_states) {
            match value.parse::<u64>() {
                Ok(usec) => {
                    self.rt.watchdog_override = Some(usec);
                    self.reset_watchdog();
                }
                Err(_) => self.log(format!("Failed to parse WATCHDOG_USEC={value}")),
            }
        }
    }

    /// `WATCHDOG=trigger`: act as if the watchdog had elapsed. Only while the service is
    /// starting or up: afterwards there is nothing left to abort.
    fn force_watchdog(&mut self) {
        use ServiceState::*;
        if matches!(self.rt.state, Start | StartPost | Running | Reload) {
            self.log(format!(
                "Watchdog request (last status: {})!",
                self.rt.status_text.as_deref().unwrap_or("<unset>")
            ));
            self.stop_watchdog();
            self.enter_signal(StopWatchdog, ServiceResult::Watchdog);
        }
    }

    /// `EXTEND_TIMEOUT_USEC=`: the state timer and the watchdog elapse no earlier than
    /// `usec` from now.
    fn extend_timeout(&mut self, usec: u64) {
        if usec == 0 || usec == USEC_INFINITY {
            return;
        }
        let extended = self.now.saturating_add(usec);
        if let Some((kind, at)) = self.rt.timer {
            if at < extended {
                self.arm_timer(kind, extended);
            }
        }
        if let Some(at) = self.rt.watchdog_at {
            if at < extended {
                self.rt.watchdog_at = Some(extended);
                self.effects.push(super::Effect::ArmTimer {
                    kind: TimerKind::Watchdog,
                    at: extended,
                });
            }
        }
    }
}
