//! The socket unit (systemd.socket(5)), for `Accept=no`: the manager listens, and the
//! first connection (or datagram) starts the service, which receives the listening
//! sockets (`LISTEN_FDS`) and serves from then on; once the service is gone the manager
//! listens again.
//!
//! ```text
//!   dead/failed ──Start──▶ (OpenListeners) ──Opened(ok)──▶ listening ◀──────────┐
//!                               └─Opened(err)──▶ failed          │ Incoming /     │ service
//!                                                                │ ServiceActive  │ inactive
//!                                                                ▼                │
//!                                                             running ────────────┘
//!   any ──Stop──▶ (CloseListeners) dead
//! ```
//!
//! In `listening` the manager polls the sockets (`Watch(true)`); in `running` the service
//! owns them (`Watch(false)`). Not modelled yet: `ExecStartPre=` and friends, `Accept=yes`,
//! trigger limits, `TimeoutSec=`.

use crate::ActiveState;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SocketState {
    Dead,
    Listening,
    Running,
    Failed,
}

impl SocketState {
    pub fn as_str(self) -> &'static str {
        match self {
            SocketState::Dead => "dead",
            SocketState::Listening => "listening",
            SocketState::Running => "running",
            SocketState::Failed => "failed",
        }
    }

    pub fn active_state(self) -> ActiveState {
        match self {
            SocketState::Dead => ActiveState::Inactive,
            SocketState::Listening | SocketState::Running => ActiveState::Active,
            SocketState::Failed => ActiveState::Failed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Start,
    Stop,
    /// The answer to `OpenListeners`: `Err` names the address and the error.
    Opened(Result<(), String>),
    /// A listening socket is readable.
    Incoming,
    /// The triggered service became active (by us or by anyone).
    ServiceActive,
    /// The triggered service is inactive or failed.
    ServiceInactive,
    /// The start job for the service could not be queued.
    ServiceRefused(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Open (or take back) every listening socket and answer `Opened`.
    OpenListeners,
    CloseListeners,
    /// Poll the listening sockets (true) or leave them to the service (false).
    Watch(bool),
    /// Queue a start job for the service this socket triggers.
    StartService,
    StateChanged {
        from: SocketState,
        to: SocketState,
    },
    Log(String),
}

/// A socket unit's state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    state: SocketState,
    effects: Vec<Effect>,
}

impl Default for Socket {
    fn default() -> Socket {
        Socket::new()
    }
}

impl Socket {
    pub fn new() -> Socket {
        Socket {
            state: SocketState::Dead,
            effects: Vec::new(),
        }
    }

    /// A socket as a previous manager left it, with the effects that resume it: its
    /// listeners taken back, and watched again when listening.
    pub fn restore(state: SocketState) -> (Socket, Vec<Effect>) {
        let s = Socket {
            state,
            effects: Vec::new(),
        };
        let effects = match state {
            SocketState::Listening => vec![Effect::Watch(true)],
            _ => Vec::new(),
        };
        (s, effects)
    }

    pub fn state(&self) -> SocketState {
        self.state
    }

    pub fn active_state(&self) -> ActiveState {
        self.state.active_state()
    }

    fn set(&mut self, to: SocketState) {
        let from = self.state;
        self.state = to;
        if from != to {
            self.effects.push(Effect::StateChanged { from, to });
        }
    }

    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        use SocketState::*;
        match (self.state, event) {
            (Dead | Failed, Event::Start) => self.effects.push(Effect::OpenListeners),
            (_, Event::Start) => {}
            (Dead | Failed, Event::Opened(Ok(()))) => {
                self.effects.push(Effect::Watch(true));
                self.set(Listening);
            }
            (Dead | Failed, Event::Opened(Err(e))) => {
                self.effects
                    .push(Effect::Log(format!("Failed to listen: {e}")));
                self.effects.push(Effect::CloseListeners);
                self.set(Failed);
            }
            (_, Event::Opened(_)) => {}
            (Listening, Event::Incoming) => {
                self.effects.push(Effect::Watch(false));
                self.effects.push(Effect::StartService);
                self.set(Running);
            }
            (Listening, Event::ServiceActive) => {
                self.effects.push(Effect::Watch(false));
                self.set(Running);
            }
            (Running, Event::ServiceInactive) => {
                self.effects.push(Effect::Watch(true));
                self.set(Listening);
            }
            (Listening | Running, Event::ServiceRefused(e)) => {
                self.effects.push(Effect::Log(format!(
                    "Failed to queue service startup job: {e}"
                )));
                self.effects.push(Effect::Watch(false));
                self.effects.push(Effect::CloseListeners);
                self.set(Failed);
            }
            (Listening | Running | Failed, Event::Stop) => {
                self.effects.push(Effect::Watch(false));
                self.effects.push(Effect::CloseListeners);
                self.set(Dead);
            }
            (_, Event::Incoming | Event::ServiceActive | Event::ServiceInactive)
            | (_, Event::ServiceRefused(_))
            | (Dead, Event::Stop) => {}
        }
        std::mem::take(&mut self.effects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SocketState::*;

    fn run(s: &mut Socket, event: Event) -> Vec<Effect> {
        s.handle(event)
    }

    fn changed(from: SocketState, to: SocketState) -> Effect {
        Effect::StateChanged { from, to }
    }

    #[test]
    fn a_connection_starts_the_service_and_its_end_listens_again() {
        let mut s = Socket::new();
        assert_eq!(run(&mut s, Event::Start), [Effect::OpenListeners]);
        assert_eq!(
            run(&mut s, Event::Opened(Ok(()))),
            [Effect::Watch(true), changed(Dead, Listening)]
        );
        assert_eq!(s.active_state(), ActiveState::Active);
        assert_eq!(
            run(&mut s, Event::Incoming),
            [
                Effect::Watch(false),
                Effect::StartService,
                changed(Listening, Running)
            ]
        );
        // More traffic is the service's.
        assert!(run(&mut s, Event::Incoming).is_empty());
        assert_eq!(
            run(&mut s, Event::ServiceInactive),
            [Effect::Watch(true), changed(Running, Listening)]
        );
        assert_eq!(
            run(&mut s, Event::Stop),
            [
                Effect::Watch(false),
                Effect::CloseListeners,
                changed(Listening, Dead)
            ]
        );
        assert_eq!(s.active_state(), ActiveState::Inactive);
    }

    #[test]
    fn failures_to_listen_or_to_queue_the_service_fail_the_socket() {
        let mut s = Socket::new();
        run(&mut s, Event::Start);
        let fx = run(&mut s, Event::Opened(Err("/run/x: EADDRINUSE".into())));
        assert_eq!(fx.last(), Some(&changed(Dead, Failed)));
        assert!(fx.contains(&Effect::CloseListeners));
        assert_eq!(s.active_state(), ActiveState::Failed);
        // A new start tries again.
        assert_eq!(run(&mut s, Event::Start), [Effect::OpenListeners]);
        run(&mut s, Event::Opened(Ok(())));
        run(&mut s, Event::Incoming);
        let fx = run(&mut s, Event::ServiceRefused("unit masked".into()));
        assert_eq!(fx.last(), Some(&changed(Running, Failed)));
    }

    #[test]
    fn a_service_started_otherwise_takes_the_sockets_and_restore_resumes_watching() {
        let mut s = Socket::new();
        run(&mut s, Event::Start);
        run(&mut s, Event::Opened(Ok(())));
        assert_eq!(
            run(&mut s, Event::ServiceActive),
            [Effect::Watch(false), changed(Listening, Running)]
        );
        let (r, fx) = Socket::restore(Listening);
        assert_eq!((r.state(), fx), (Listening, vec![Effect::Watch(true)]));
        let (_, fx) = Socket::restore(Running);
        assert!(fx.is_empty());
    }
}
