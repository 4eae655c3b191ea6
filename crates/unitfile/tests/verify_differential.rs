//! Differential test of unit loading against systemd 252 itself: every snippet below is
//! checked by `systemd-analyze verify --man=no ./NAME` (run in the directory holding it)
//! and loaded by [`unitfile::load::load_file`], and the two must agree on three things:
//!
//! - (a) refusal: systemd refuses the unit ("has a bad unit file setting", "failed to load
//!   properly") exactly when our load state is `BadSetting` or `Error`;
//! - (b) lines: every `FILE:LINE:` complaint of systemd is matched by at least one
//!   diagnostic of ours on the same line (we may say more, e.g. about directives sysmaster
//!   does not support yet, but never less);
//! - (c) silence: when systemd says nothing at all, we report no error.
//!
//! All snippets go to one `systemd-analyze` run (one run per snippet takes 50 ms each);
//! marker units between them tell which output belongs to which snippet, and the output
//! is the same as when each is checked alone (verified when the test was written).
//!
//! Known disagreements are listed in [`KNOWN_DIVERGENCES`]; the test also checks that they
//! still disagree, so fixing one forces its removal from the list. `VERIFYDIFF_VERBOSE=1`
//! prints what both sides said about every snippet.
//!
//! The test needs `/usr/bin/systemd-analyze`; without it, it fails rather than pass
//! silently.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use unitfile::load::{self, LoadState};
use unitfile::lookup::Lookup;
use unitfile::specifier::HostFacts;
use unitfile::Severity;

const ANALYZE: &str = "/usr/bin/systemd-analyze";

/// A service body that systemd accepts without a word; most service snippets add to it.
macro_rules! svc {
    ($($line:literal),* $(,)?) => {
        concat!("[Service]\nExecStart=/bin/true\n", $($line, "\n"),*).as_bytes()
    };
}

/// (file name, contents). Every name is unique, so a failure names its case. The snippets
/// only run `/bin/true` and `/bin/sh` and only depend on units that exist (or on none), so
/// that systemd has nothing unrelated to say about them.
const CASES: &[(&str, &[u8])] = &[
    // --- Syntax of the file itself.
    (
        "vd-syntax-valid.service",
        b"# comment\n; comment\n[Unit]\nDescription=A valid service\n\n[Service]\nExecStart=/bin/true\n",
    ),
    (
        "vd-syntax-bad-header.service",
        b"[Unit]\nDescription=x\n[Service\nExecStart=/bin/true\n",
    ),
    (
        "vd-syntax-header-trailing-text.service",
        b"[Unit] x\nDescription=x\n[Service]\nExecStart=/bin/true\n",
    ),
    (
        "vd-syntax-unknown-section.service",
        b"[Unit]\nDescription=x\n[Foo]\nBar=1\n[Service]\nExecStart=/bin/true\n",
    ),
    (
        "vd-syntax-missing-equals.service",
        b"[Unit]\nDescription=x\nJustAWord\n[Service]\nExecStart=/bin/true\n",
    ),
    (
        "vd-syntax-outside-section.service",
        b"Description=x\n[Service]\nExecStart=/bin/true\n",
    ),
    (
        "vd-syntax-empty-key.service",
        b"[Unit]\n=value\n[Service]\nExecStart=/bin/true\n",
    ),
    (
        "vd-syntax-unknown-key.service",
        svc!("FooBar=1", "[Unit]", "Descripton=typo"),
    ),
    (
        "vd-syntax-extensions.service",
        svc!("X-Custom=1", "[X-Mine]", "Anything=goes", "Without equals is fine?=yes"),
    ),
    (
        "vd-syntax-continuation-comments.service",
        b"[Unit]\nDescription=one \\\n# a comment inside\n; another\n  two\n[Service]\nExecStart=/bin/sh -c \\\n  'exit 0'\n",
    ),
    (
        "vd-syntax-continuation-at-eof.service",
        b"[Service]\nExecStart=/bin/true\n[Unit]\nDescription=open \\",
    ),
    (
        "vd-syntax-bom-crlf.service",
        b"\xef\xbb\xbf[Unit]\r\nDescription=x\r\n[Service]\r\nExecStart=/bin/true\r\n",
    ),
    (
        "vd-syntax-non-utf8-value.service",
        b"[Unit]\nDescription=caf\xe9\n[Service]\nExecStart=/bin/true\n",
    ),
    (
        "vd-syntax-non-utf8-comment.service",
        b"# caf\xe9\n[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n",
    ),
    (
        "vd-syntax-reset-then-set.service",
        b"[Service]\nExecStart=/bin/false\nExecStart=\nExecStart=/bin/true\n",
    ),
    (
        "vd-syntax-non-utf8-key.service",
        b"[Unit]\nDescr\xe9ption=x\n[Service]\nExecStart=/bin/true\n",
    ),
    (
        "vd-syntax-non-utf8-unknown-section.service",
        b"[Foo]\nBar=caf\xe9\n[Service]\nExecStart=/bin/true\n",
    ),
    (
        "vd-syntax-non-utf8-continued-comment.service",
        b"[Unit]\nDescription=a \\\n# caf\xe9\nb\n[Service]\nExecStart=/bin/true\n",
    ),
    // systemd reports a continued line at its last physical line.
    (
        "vd-syntax-continuation-bad-value.service",
        svc!("Restart=bo\\", "# comment", "gus"),
    ),
    (
        "vd-syntax-continuation-missing-equals.service",
        svc!("Foo\\", "bar"),
    ),
    (
        "vd-syntax-case-sensitive-section.service",
        b"[unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n",
    ),
    (
        "vd-syntax-case-sensitive-key.service",
        svc!("restart=always"),
    ),
    ("vd-syntax-empty-file-body.service", b"\n\n# nothing\n"),
    (
        "vd-syntax-continuation-empty-line.service",
        svc!("Restart=bo\\", "", " gus"),
    ),
    // At the end of the file an open continuation is reported one line further down.
    ("vd-syntax-continuation-eof-newline.service", svc!("Restart=x\\")),
    (
        "vd-syntax-continuation-eof-bare.service",
        b"[Service]\nExecStart=/bin/true\nRestart=\\",
    ),
    (
        "vd-syntax-blank-around-key.service",
        svc!("  \t Restart \t = \t bogus  "),
    ),
    ("vd-syntax-header-inner-blanks.service", b"[ Unit ]\nDescription=x\n[Service]\nExecStart=/bin/true\n"),
    ("vd-syntax-header-empty.service", b"[]\nDescription=x\n[Service]\nExecStart=/bin/true\n"),
    ("vd-syntax-header-double-bracket.service", b"[Unit]]\nDescription=x\n[Service]\nExecStart=/bin/true\n"),
    ("vd-syntax-header-continued.service", b"[Unit\\\n]\n[Service]\nExecStart=/bin/true\n"),
    ("vd-syntax-section-twice.service", svc!("[Service]", "Restart=bogus")),
    ("vd-syntax-escaped-backslash-end.service", b"[Unit]\nDescription=a\\\\\n[Service]\nExecStart=/bin/true\n"),
    // --- Empty values: some settings reset, many others are errors in systemd 252.
    (
        "vd-empty-resets.service",
        svc!(
            "KillMode=",
            "Nice=",
            "User=",
            "OOMScoreAdjust=",
            "CPUSchedulingPolicy=",
            "PIDFile=",
            "WorkingDirectory=",
            "SuccessExitStatus=",
            "TasksMax=",
            "Environment=",
            "[Unit]",
            "Description=",
            "Wants=",
            "ConditionPathExists=",
        ),
    ),
    ("vd-empty-bool.service", svc!("RemainAfterExit=")),
    ("vd-empty-timespan.service", svc!("TimeoutStartSec=")),
    ("vd-empty-restart.service", svc!("Restart=")),
    ("vd-empty-type.service", svc!("Type=")),
    ("vd-empty-mode.service", svc!("UMask=")),
    ("vd-empty-signal.service", svc!("KillSignal=")),
    ("vd-empty-stdout.service", svc!("StandardOutput=")),
    ("vd-empty-limit.service", svc!("LimitNOFILE=")),
    ("vd-empty-unsigned.service", svc!("[Unit]", "StartLimitBurst=")),
    ("vd-empty-action.service", svc!("[Unit]", "FailureAction=")),
    // --- Booleans.
    (
        "vd-bool-valid.service",
        svc!(
            "RemainAfterExit=yes",
            "GuessMainPID=off",
            "NonBlocking=1",
            "PrivateTmp=true",
            "NoNewPrivileges=n",
            "IgnoreSIGPIPE=FALSE",
        ),
    ),
    ("vd-bool-bad.service", svc!("RemainAfterExit=maybe")),
    ("vd-bool-bad-unit.service", svc!("[Unit]", "StopWhenUnneeded=2")),
    // --- Time spans.
    (
        "vd-time-valid.service",
        svc!(
            "TimeoutStartSec=1min 30s",
            "TimeoutStopSec=infinity",
            "RestartSec=100ms",
            "RuntimeMaxSec=1h2min",
            "WatchdogSec=0",
        ),
    ),
    ("vd-time-bad-unit.service", svc!("TimeoutStartSec=5 fortnights")),
    ("vd-time-negative.service", svc!("RestartSec=-1")),
    ("vd-time-garbage.service", svc!("[Unit]", "JobTimeoutSec=soon")),
    // --- Signals.
    (
        "vd-signal-valid.service",
        svc!("KillSignal=SIGINT", "FinalKillSignal=KILL", "RestartKillSignal=SIGRTMIN+3"),
    ),
    ("vd-signal-unknown.service", svc!("KillSignal=SIGFOO")),
    ("vd-signal-number-out-of-range.service", svc!("KillSignal=99")),
    // --- Modes.
    ("vd-mode-valid.service", svc!("UMask=077", "RuntimeDirectoryMode=0750")),
    ("vd-mode-bad-digit.service", svc!("UMask=0999")),
    ("vd-mode-garbage.service", svc!("UMask=rwx")),
    // --- Exit statuses.
    (
        "vd-exit-valid.service",
        svc!("SuccessExitStatus=0 1 SIGHUP TEMPFAIL", "RestartPreventExitStatus=255"),
    ),
    ("vd-exit-bad-number.service", svc!("SuccessExitStatus=256")),
    ("vd-exit-bad-word.service", svc!("RestartForceExitStatus=1 NOPE 2")),
    // --- Resource limits.
    (
        "vd-limit-valid.service",
        svc!(
            "LimitNOFILE=1024:524288",
            "LimitCORE=infinity",
            "LimitAS=4G",
            "LimitCPU=10s",
            "LimitNICE=-5",
            "LimitRTPRIO=10",
        ),
    ),
    ("vd-limit-garbage.service", svc!("LimitNOFILE=lots")),
    ("vd-limit-soft-above-hard.service", svc!("LimitNOFILE=4096:1024")),
    ("vd-limit-nice-range.service", svc!("LimitNICE=30")),
    // --- Nice and OOMScoreAdjust.
    ("vd-nice-valid.service", svc!("Nice=-20", "Nice=19", "OOMScoreAdjust=-1000")),
    ("vd-nice-too-high.service", svc!("Nice=20")),
    ("vd-nice-garbage.service", svc!("Nice=low")),
    ("vd-oom-too-low.service", svc!("OOMScoreAdjust=-1001")),
    ("vd-oom-garbage.service", svc!("OOMScoreAdjust=high")),
    // --- KillMode, Type, Restart, StandardOutput.
    ("vd-killmode-valid.service", svc!("KillMode=mixed")),
    ("vd-killmode-bad.service", svc!("KillMode=all")),
    (
        "vd-type-valid-oneshot.service",
        b"[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\nExecStart=/bin/sh -c true\n",
    ),
    ("vd-type-bad.service", svc!("Type=forkin")),
    ("vd-type-oneshot-no-exec.service", b"[Service]\nType=oneshot\n"),
    (
        "vd-type-simple-two-exec.service",
        svc!("Type=simple", "ExecStart=/bin/sh -c true"),
    ),
    ("vd-type-dbus-no-busname.service", svc!("Type=dbus")),
    ("vd-restart-bad.service", svc!("Restart=sometimes")),
    (
        "vd-restart-oneshot-always.service",
        svc!("Type=oneshot", "Restart=always"),
    ),
    (
        "vd-stdout-valid.service",
        svc!(
            "StandardOutput=append:/var/log/vd.log",
            "StandardError=null",
            "StandardInput=null",
        ),
    ),
    ("vd-stdout-bad-word.service", svc!("StandardOutput=printer")),
    ("vd-stdout-relative-file.service", svc!("StandardOutput=file:vd.log")),
    // --- Exec lines.
    (
        "vd-exec-valid.service",
        b"[Service]\nType=oneshot\nExecStartPre=-/bin/sh -c 'exit 1'\nExecStart=@/bin/sh sh -c \"echo $$HOME\"\nExecStart=+/bin/true ; /bin/true\nExecStartPost=:/bin/true\nExecStop=!!/bin/true\n",
    ),
    ("vd-exec-name-only.service", b"[Service]\nExecStart=true\n"),
    ("vd-exec-relative.service", b"[Service]\nExecStart=bin/true\n"),
    ("vd-exec-bad-prefix.service", b"[Service]\nExecStart=*/bin/true\n"),
    ("vd-exec-plus-and-bang.service", b"[Service]\nExecStart=+!/bin/true\n"),
    (
        "vd-exec-unbalanced-quote.service",
        b"[Service]\nExecStart=/bin/sh -c \"echo\n",
    ),
    ("vd-exec-bad-escape.service", b"[Service]\nExecStart=/bin/sh -c \\q\n"),
    ("vd-exec-relative-stop.service", svc!("ExecStop=-sbin/stop")),
    ("vd-exec-empty-after-prefix.service", b"[Service]\nExecStart=-\n"),
    // --- Environment.
    (
        "vd-env-valid.service",
        svc!(
            "Environment=\"A=1 2\" B=3",
            "Environment=C=",
            "PassEnvironment=PATH LANG",
            "UnsetEnvironment=TERM",
        ),
    ),
    ("vd-env-bad-name.service", svc!("Environment=1A=x B=2")),
    ("vd-env-no-equals.service", svc!("Environment=NOVALUE")),
    ("vd-env-unbalanced.service", svc!("Environment=\"A=1")),
    ("vd-env-pass-bad-name.service", svc!("PassEnvironment=BAD-NAME")),
    // --- Unit names in dependencies.
    (
        "vd-deps-valid.service",
        svc!(
            "[Unit]",
            "Wants=multi-user.target",
            "After=network.target basic.target",
            "[Install]",
            "WantedBy=multi-user.target",
        ),
    ),
    ("vd-deps-not-a-name.service", svc!("[Unit]", "Wants=not_a_unit")),
    ("vd-deps-bad-suffix.service", svc!("[Unit]", "After=foo.bogus")),
    ("vd-deps-template.service", svc!("[Unit]", "Requires=getty@.service")),
    ("vd-deps-empty-instance.service", svc!("[Unit]", "Before=%i.target")),
    // --- Conditions and asserts.
    (
        "vd-cond-valid.service",
        svc!(
            "[Unit]",
            "ConditionPathExists=|!/etc/vd-nonexistent",
            "ConditionPathIsDirectory=/etc",
            "ConditionKernelCommandLine=quiet",
            "AssertPathExists=/bin/true",
        ),
    ),
    ("vd-cond-relative.service", svc!("[Unit]", "ConditionPathExists=etc/x")),
    ("vd-cond-assert-relative.service", svc!("[Unit]", "AssertPathIsDirectory=x")),
    ("vd-cond-unknown.service", svc!("[Unit]", "ConditionFooBar=1")),
    ("vd-cond-bad-bool.service", svc!("[Unit]", "ConditionACPower=maybe")),
    // --- Sockets (each gets an accepting and a non-accepting service next to it).
    (
        "vd-sock-valid.socket",
        b"[Socket]\nListenStream=/run/vd-sock-valid.sock\nListenDatagram=[::1]:5353\nListenStream=127.0.0.1:8080\nSocketMode=0600\nBacklog=16\n",
    ),
    ("vd-sock-no-port.socket", b"[Socket]\nListenStream=127.0.0.1\nListenStream=9999\n"),
    ("vd-sock-port-range.socket", b"[Socket]\nListenStream=70000\nListenStream=9999\n"),
    ("vd-sock-garbage.socket", b"[Socket]\nListenStream=not an address\n"),
    ("vd-sock-no-listen.socket", b"[Socket]\nBacklog=10\n"),
    (
        "vd-sock-accept-datagram.socket",
        b"[Socket]\nAccept=yes\nListenDatagram=/run/vd-accept.sock\n",
    ),
    ("vd-sock-bad-mode.socket", b"[Socket]\nListenStream=9999\nSocketMode=888\n"),
    // --- Timers.
    (
        "vd-timer-valid.timer",
        b"[Timer]\nOnCalendar=daily\nOnCalendar=Mon..Fri *-*-* 09:00\nOnBootSec=5min\nAccuracySec=1s\nPersistent=yes\n",
    ),
    ("vd-timer-only-garbage.timer", b"[Timer]\nOnCalendar=garbage\n"),
    (
        "vd-timer-garbage-and-good.timer",
        b"[Timer]\nOnCalendar=garbage\nOnBootSec=5min\n",
    ),
    ("vd-timer-bad-span.timer", b"[Timer]\nOnBootSec=soon\nOnActiveSec=1h\n"),
    ("vd-timer-no-trigger.timer", b"[Timer]\nPersistent=yes\n"),
    ("vd-timer-bad-unit.timer", b"[Timer]\nOnBootSec=1h\nUnit=not_a_unit\n"),
    // --- Path units.
    ("vd-path-valid.path", b"[Path]\nPathExists=/tmp\nPathChanged=/etc/hostname\n"),
    ("vd-path-relative-only.path", b"[Path]\nPathExists=tmp\n"),
    (
        "vd-path-relative-and-good.path",
        b"[Path]\nPathChanged=/tmp\nPathModified=etc/x\nMakeDirectory=perhaps\n",
    ),
    // --- Targets.
    (
        "vd-target-valid.target",
        b"[Unit]\nDescription=t\nWants=basic.target\nAllowIsolate=yes\n",
    ),
    ("vd-target-service-section.target", b"[Unit]\nDescription=t\n[Service]\nExecStart=/bin/true\n"),
    ("vd-target-bad-bool.target", b"[Unit]\nAllowIsolate=perhaps\n"),
    // --- Mounts: the name must be the escaped Where=.
    (
        "tmp-vd\\x2dvalid.mount",
        b"[Mount]\nWhat=tmpfs\nWhere=/tmp/vd-valid\nType=tmpfs\nOptions=mode=0755\n",
    ),
    (
        "tmp-vd\\x2dmismatch.mount",
        b"[Mount]\nWhat=tmpfs\nWhere=/tmp/elsewhere\nType=tmpfs\n",
    ),
    ("tmp-vd\\x2dno\\x2dwhat.mount", b"[Mount]\nWhere=/tmp/vd-no-what\nType=tmpfs\n"),
    (
        "tmp-vd\\x2dbad\\x2dmode.mount",
        b"[Mount]\nWhat=tmpfs\nWhere=/tmp/vd-bad-mode\nDirectoryMode=abc\n",
    ),
    // --- More value types of the execution context.
    (
        "vd-more-valid.service",
        svc!(
            "Type=notify",
            "NotifyAccess=all",
            "User=root",
            "Group=root",
            "WorkingDirectory=~",
            "RuntimeDirectory=vd vd/sub",
            "ProtectSystem=strict",
            "ProtectHome=read-only",
            "CPUSchedulingPolicy=batch",
            "IOSchedulingClass=idle",
            "Nice=+5",
            "OOMScoreAdjust=+1000",
            "LimitFSIZE=1K",
            "UMask=0",
            "KillSignal=RTMAX",
            "SuccessExitStatus=SIGKILL",
            "TimeoutStopSec=1.5min",
            "RemainAfterExit=Y",
            "PrivateTmp=ON",
        ),
    ),
    ("vd-more-bad-user.service", svc!("User=bad!name")),
    ("vd-more-relative-workdir.service", svc!("WorkingDirectory=srv")),
    ("vd-more-absolute-runtimedir.service", svc!("RuntimeDirectory=/run/vd")),
    ("vd-more-dotdot-statedir.service", svc!("StateDirectory=../vd")),
    ("vd-more-relative-pidfile.service", svc!("Type=forking", "PIDFile=vd.pid")),
    ("vd-more-relative-envfile.service", svc!("EnvironmentFile=vd.env")),
    ("vd-more-relative-rwpath.service", svc!("ReadWritePaths=var/vd")),
    ("vd-more-bad-protect.service", svc!("ProtectSystem=very")),
    ("vd-more-bad-cpu-policy.service", svc!("CPUSchedulingPolicy=fastest")),
    ("vd-more-bad-cpu-priority.service", svc!("CPUSchedulingPriority=100")),
    ("vd-more-bad-io-class.service", svc!("IOSchedulingClass=urgent")),
    ("vd-more-bad-capability.service", svc!("CapabilityBoundingSet=CAP_FOO")),
    ("vd-more-bad-syscall-group.service", svc!("SystemCallFilter=@bogus")),
    ("vd-more-limit-nofile-unit.service", svc!("LimitNOFILE=1K")),
    ("vd-more-limit-cpu-garbage.service", svc!("LimitCPU=forever")),
    ("vd-more-mode-too-big.service", svc!("UMask=017777")),
    ("vd-more-signal-zero.service", svc!("KillSignal=0")),
    ("vd-more-signal-rt-range.service", svc!("KillSignal=SIGRTMIN+40")),
    ("vd-more-time-trailing.service", svc!("TimeoutStartSec=10s x")),
    ("vd-more-bool-enable.service", svc!("PrivateTmp=enable")),
    ("vd-more-exit-negative.service", svc!("SuccessExitStatus=-1")),
    ("vd-more-stdin-socket.service", svc!("StandardInput=socket")),
    ("vd-more-stdin-data-empty.service", svc!("StandardInput=data")),
    ("vd-more-stdout-fd.service", svc!("StandardOutput=fd:vd")),
    ("vd-more-tasksmax.service", svc!("TasksMax=lots", "MemoryMax=10%", "CPUWeight=0")),
    ("vd-more-memory-garbage.service", svc!("MemoryMax=huge")),
    ("vd-more-slice-not-slice.service", svc!("Slice=vd.service")),
    ("vd-more-sockets-bad.service", svc!("Sockets=not_a_socket")),
    ("vd-more-killmode-none.service", svc!("KillMode=none")),
    ("vd-more-busname.service", svc!("Type=dbus", "BusName=org.example.Vd")),
    ("vd-more-bad-busname.service", svc!("Type=dbus", "BusName=not a bus name")),
    ("vd-more-bad-syscall.service", svc!("SystemCallFilter=notasyscall")),
    (
        "vd-more-bad-syscall-settings.service",
        svc!(
            "SystemCallFilter=~@mount @clock",
            "SystemCallErrorNumber=EBOGUS",
            "SystemCallArchitectures=bogus",
        ),
    ),
    (
        "vd-more-bad-families.service",
        svc!("RestrictAddressFamilies=AF_BOGUS", "RestrictNamespaces=bogus"),
    ),
    (
        "vd-more-bad-ambient.service",
        svc!("AmbientCapabilities=CAP_BOGUS", "CapabilityBoundingSet=~CAP_SYS_ADMIN bogus"),
    ),
    ("vd-more-bad-groups.service", svc!("Group=bad!name", "SupplementaryGroups=ok bad!x")),
    ("vd-more-optional-relative-workdir.service", svc!("WorkingDirectory=-srv")),
    ("vd-more-unnormalized-workdir.service", svc!("WorkingDirectory=/a/../b")),
    ("vd-more-relative-rootdir.service", svc!("RootDirectory=srv")),
    ("vd-more-relative-ttypath.service", svc!("TTYPath=dev/tty1")),
    ("vd-more-env-bad-specifier.service", svc!("Environment=A=%Z")),
    ("vd-more-env-quote-glued.service", svc!("Environment=\"A=1\"B")),
    ("vd-more-string-bad-specifier.service", svc!("SyslogIdentifier=%Z")),
    // --- More Exec lines.
    ("vd-exec2-pipe-prefix.service", b"[Service]\nExecStart=|/bin/true\n"),
    ("vd-exec2-at-only.service", b"[Service]\nExecStart=@/bin/sh\n"),
    ("vd-exec2-bad-specifier.service", b"[Service]\nExecStart=/bin/echo %Z\n"),
    ("vd-exec2-trailing-semicolon.service", b"[Service]\nExecStart=/bin/true ;\n"),
    (
        "vd-exec2-escaped-semicolon.service",
        b"[Service]\nExecStart=/bin/echo \\; done\n",
    ),
    ("vd-exec2-dollar-brace.service", b"[Service]\nExecStart=/bin/echo ${FOO} $BAR\n"),
    ("vd-exec2-double-bang-plus.service", b"[Service]\nExecStart=!!+/bin/true\n"),
    ("vd-exec2-reload-relative.service", svc!("ExecReload=kill -HUP $MAINPID")),
    ("vd-exec2-quoted-path.service", b"[Service]\nExecStart='/bin/true' 'a'b\n"),
    (
        "vd-exec2-escapes.service",
        b"[Service]\nExecStart=/bin/echo \\x41 \\u00e9 \\777\n",
    ),
    ("vd-exec2-percent-literal.service", b"[Service]\nExecStart=/bin/echo 100%%\n"),
    ("vd-exec2-lone-percent.service", b"[Service]\nExecStart=/bin/echo 100%\n"),
    // --- More [Unit] and [Install] settings.
    (
        "vd-unit2-valid.service",
        svc!(
            "[Unit]",
            "Documentation=man:vd(8) https://example.com/vd",
            "OnFailureJobMode=replace-irreversibly",
            "StartLimitBurst=5",
            "StartLimitIntervalSec=10s",
            "FailureAction=none",
            "CollectMode=inactive-or-failed",
            "RequiresMountsFor=/var/lib",
        ),
    ),
    ("vd-unit2-bad-doc.service", svc!("[Unit]", "Documentation=not-a-url")),
    ("vd-unit2-bad-jobmode.service", svc!("[Unit]", "OnFailureJobMode=sometimes")),
    ("vd-unit2-bad-burst.service", svc!("[Unit]", "StartLimitBurst=-1")),
    ("vd-unit2-bad-action.service", svc!("[Unit]", "FailureAction=explode")),
    ("vd-unit2-relative-mounts.service", svc!("[Unit]", "RequiresMountsFor=var/lib")),
    ("vd-unit2-deprecated-bindto.service", svc!("[Unit]", "BindTo=basic.target")),
    (
        "vd-unit2-deprecated-startlimit.service",
        svc!("[Unit]", "StartLimitInterval=10s", "OnFailureIsolate=yes"),
    ),
    ("vd-unit2-mixed-deps.service", svc!("[Unit]", "Wants=basic.target bad_name sysinit.target")),
    ("vd-unit2-dep-instance.service", svc!("[Unit]", "After=getty@tty1.service")),
    ("vd-unit2-dep-empty-instance.service", svc!("[Unit]", "After=getty@%i.service")),
    ("vd-unit2-percent-description.service", svc!("[Unit]", "Description=100%")),
    ("vd-unit2-cond-empty-negation.service", svc!("[Unit]", "ConditionPathExists=!")),
    ("vd-unit2-cond-runtime-values.service", svc!("[Unit]", "ConditionArchitecture=bogus", "ConditionVirtualization=maybe", "ConditionFirstBoot=perhaps")),
    ("vd-unit2-cond-reset.service", svc!("[Unit]", "ConditionPathExists=/x", "ConditionPathExists=")),
    ("vd-install-bad-wantedby.service", svc!("[Install]", "WantedBy=not_a_unit")),
    ("vd-install-alias-wrong-type.service", svc!("[Install]", "Alias=vd-alias.target")),
    ("vd-install-unknown-key.service", svc!("[Install]", "WantedByy=multi-user.target")),
    // --- More sockets.
    ("vd-sock2-port-zero.socket", b"[Socket]\nListenStream=0\nListenStream=9999\n"),
    ("vd-sock2-v6-no-port.socket", b"[Socket]\nListenStream=[::1]\nListenStream=9999\n"),
    ("vd-sock2-vsock.socket", b"[Socket]\nListenStream=vsock:2:1234\n"),
    ("vd-sock2-relative-fifo.socket", b"[Socket]\nListenFIFO=run/vd.fifo\nListenStream=9999\n"),
    ("vd-sock2-bad-netlink.socket", b"[Socket]\nListenNetlink=bogus 1\nListenStream=9999\n"),
    ("vd-sock2-bad-bind.socket", b"[Socket]\nListenStream=9999\nBindIPv6Only=sometimes\n"),
    ("vd-sock2-bad-backlog.socket", b"[Socket]\nListenStream=9999\nBacklog=-1\n"),
    ("vd-sock2-service-not-service.socket", b"[Socket]\nListenStream=9999\nService=basic.target\n"),
    ("vd-sock2-accept-with-service.socket", b"[Socket]\nListenStream=9999\nAccept=yes\nService=vd-sock2-accept-with-service.service\n"),
    ("vd-sock2-abstract.socket", b"[Socket]\nListenStream=@vd-abstract\nListenSequentialPacket=/run/vd-seq.sock\n"),
    // --- More timers and paths.
    ("vd-timer2-bad-hour.timer", b"[Timer]\nOnCalendar=*-*-* 25:00\nOnBootSec=1h\n"),
    ("vd-timer2-timezone.timer", b"[Timer]\nOnCalendar=*-*-* 00:00:00 Europe/Berlin\nOnCalendar=daily UTC\n"),
    ("vd-timer2-unit-template.timer", b"[Timer]\nOnBootSec=1h\nUnit=getty@.service\n"),
    ("vd-timer2-unit-timer.timer", b"[Timer]\nOnBootSec=1h\nUnit=vd-other.timer\n"),
    ("vd-timer2-clock-change-only.timer", b"[Timer]\nOnClockChange=yes\n"),
    ("vd-timer2-reset.timer", b"[Timer]\nOnBootSec=1h\nOnCalendar=\n"),
    ("vd-timer2-bad-accuracy.timer", b"[Timer]\nOnBootSec=1h\nAccuracySec=-5\n"),
    ("vd-path2-bad-mode.path", b"[Path]\nPathExists=/tmp\nDirectoryMode=999\n"),
    ("vd-path2-unit-bad.path", b"[Path]\nPathExists=/tmp\nUnit=x\n"),
    // --- Slices, swaps, automounts.
    ("vd-slice-valid.slice", b"[Slice]\nCPUWeight=100\nMemoryMax=1G\nTasksMax=50%\n"),
    ("vd-slice-bad-weight.slice", b"[Slice]\nCPUWeight=0\nIOWeight=20000\n"),
    ("vd-slice-slice-key.slice", b"[Slice]\nSlice=system.slice\n"),
    ("dev-vd.swap", b"[Swap]\nWhat=/dev/vd\nPriority=10\n"),
    ("dev-vd\\x2dbad.swap", b"[Swap]\nWhat=/dev/vd-bad\nPriority=40000\n"),
    ("tmp-vd\\x2dauto.automount", b"[Automount]\nWhere=/tmp/vd-auto\nTimeoutIdleSec=5min\n"),
    ("tmp-vd\\x2dauto\\x2dbad.automount", b"[Automount]\nWhere=/tmp/elsewhere\n"),
    // --- Templates, checked as an instance (systemd 252 uses `i`, we use `test_instance`).
    (
        "vd-tmpl@.service",
        b"[Unit]\nDescription=instance %i of %p\n[Service]\nExecStart=/bin/sh -c 'echo %i %I'\n",
    ),
    (
        "vd-tmpl-bad-specifier@.service",
        b"[Unit]\nDescription=bad %Z\n[Service]\nExecStart=/bin/true\n",
    ),
    (
        "vd-tmpl-dep@.service",
        b"[Unit]\nAfter=vd-other@%i.service\n[Service]\nExecStart=/bin/echo %i\n",
    ),
    (
        "vd-plain-with-instance.service",
        b"[Unit]\nDescription=empty: %i\n[Service]\nExecStart=/bin/true\n",
    ),
];

/// Which of the three comparisons a divergence breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Check {
    /// (a) systemd and we disagree on whether the unit is refused.
    Refusal,
    /// (b) systemd complains about a line we say nothing about.
    Lines,
    /// (c) systemd says nothing and we report an error.
    Silence,
}

/// Disagreements found by this test and not fixed yet: (case, check, what systemd does).
/// These are bugs of ours (or choices still to be made); the test fails when one of them
/// starts agreeing, so that this list stays true and shrinks as they are fixed.
const KNOWN_DIVERGENCES: &[(&str, Check, &str)] = &[];

/// What `systemd-analyze verify` said about one file.
#[derive(Debug, Default)]
struct Systemd {
    refused: bool,
    /// Lines of the file systemd complains about.
    lines: BTreeSet<usize>,
    /// Everything it said about the unit, after filtering; empty when it accepted the unit
    /// silently.
    output: Vec<String>,
}

/// What we said about the same file.
#[derive(Debug)]
struct Ours {
    load_state: LoadState,
    lines: BTreeSet<usize>,
    diagnostics: Vec<String>,
    has_error: bool,
}

/// systemd's complaints about things outside the unit file itself, which a snippet can
/// still trigger and which are not about unit-file syntax: a command that is missing on
/// this host, and the service a socket activates not being loadable.
fn unrelated(line: &str) -> bool {
    (line.contains(": Command ") && line.contains("is not executable"))
        || line.contains("socket cannot be started")
}

/// The name systemd 252 verifies a file under: a template gets the instance `i` (later
/// systemd versions use `test_instance`, like `unitfile::load::VERIFY_INSTANCE`).
fn systemd_unit_name(file: &str) -> String {
    file.replacen("@.", "@i.", 1)
}

/// Marker units surround every case in the one `systemd-analyze` run: each makes systemd
/// print a known warning while it is loaded, and systemd loads the files in the order
/// given, so what it prints between marker `k` and marker `k + 1` is about case `k`. This
/// attributes even the messages that name no file or unit (e.g. "Accepting user/group
/// name ..."). Marker `CASES.len()` closes the last case.
fn marker_name(k: usize) -> String {
    format!("vd-marker-{k:04}.service")
}

fn marker_of(line: &str) -> Option<usize> {
    if !line.contains("Unknown key 'VdMarker'") {
        return None;
    }
    let (_, rest) = line.split_once("/vd-marker-")?;
    rest.get(..4)?.parse().ok()
}

/// The case a line names explicitly, by file path or by unit name.
fn named_case(line: &str) -> Option<usize> {
    CASES.iter().position(|(file, _)| {
        let unit = systemd_unit_name(file);
        line.contains(&format!("/{file}:"))
            || line.starts_with(&format!("{unit}: "))
            || line.contains(&format!("Unit {unit} "))
    })
}

/// Writes every case, its companions and the markers into `dir`.
fn prepare(dir: &Path) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    for (name, text) in CASES {
        fs::write(dir.join(name), text).unwrap();
        // A socket needs the service it activates, or systemd complains about that.
        if let Some(stem) = name.strip_suffix(".socket") {
            let body = "[Service]\nExecStart=/bin/true\n";
            fs::write(dir.join(format!("{stem}.service")), body).unwrap();
            fs::write(dir.join(format!("{stem}@.service")), body).unwrap();
        }
    }
    for k in 0..=CASES.len() {
        let body = format!("[Unit]\nVdMarker={k}\n[Service]\nExecStart=/bin/true\n");
        fs::write(dir.join(marker_name(k)), body).unwrap();
    }
}

/// Runs `systemd-analyze verify` once on all cases and splits what it says by case.
fn run_systemd(dir: &Path) -> Vec<Systemd> {
    let mut cmd = Command::new(ANALYZE);
    cmd.args(["verify", "--man=no"]).current_dir(dir);
    for (k, (name, _)) in CASES.iter().enumerate() {
        cmd.arg(format!("./{}", marker_name(k)));
        cmd.arg(format!("./{name}"));
    }
    cmd.arg(format!("./{}", marker_name(CASES.len())));
    let out = cmd
        .env("SYSTEMD_LOG_COLOR", "0")
        .env("SYSTEMD_LOG_LOCATION", "0")
        .env("SYSTEMD_LOG_TIME", "0")
        .env("SYSTEMD_LOG_TARGET", "console")
        .env("SYSTEMD_LOG_LEVEL", "info")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {ANALYZE}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let mut results: Vec<Systemd> = CASES.iter().map(|_| Systemd::default()).collect();
    let mut markers_seen = BTreeSet::new();
    let mut current: Option<usize> = None;
    let mut saw_unrelated = false;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(k) = marker_of(line) {
            markers_seen.insert(k);
            current = Some(k);
            continue;
        }
        // A line naming its case wins: after the last marker come the checks systemd
        // makes once everything is loaded, and those name their unit.
        let case = named_case(line)
            .or(current.filter(|&k| k < CASES.len()))
            .unwrap_or_else(|| panic!("cannot tell which case this is about: {line}\n{text}"));
        if unrelated(line) {
            saw_unrelated = true;
            continue;
        }
        let (Some((name, _)), Some(sd)) = (CASES.get(case), results.get_mut(case)) else {
            unreachable!("case indices come from CASES");
        };
        sd.output.push(line.to_string());
        if line.contains("bad unit file setting") || line.contains("failed to load properly") {
            sd.refused = true;
        }
        let number = line
            .split_once(&format!("/{name}:"))
            .and_then(|(_, rest)| rest.split_once(':'))
            .and_then(|(n, _)| n.parse::<usize>().ok());
        sd.lines.extend(number);
    }
    assert_eq!(
        markers_seen.len(),
        CASES.len() + 1,
        "systemd did not print every marker; the attribution of lines cannot be trusted:\n{text}"
    );
    // Every way to fail must be a refused case or one of the unrelated complaints;
    // anything else means a snippet or the filter needs fixing.
    assert!(
        out.status.success() || saw_unrelated || results.iter().any(|r| r.refused),
        "systemd-analyze failed without refusing any unit:\n{text}"
    );
    results
}

fn run_ours(lookup: &Lookup, host: &HostFacts, dir: &Path, name: &str) -> Ours {
    let unit = load::load_file(lookup, &dir.join(name), host)
        .unwrap_or_else(|d| panic!("{name}: not loadable at all: {d}"));
    Ours {
        load_state: unit.load_state,
        lines: unit
            .diagnostics
            .iter()
            .filter(|d| d.line > 0)
            .map(|d| d.line)
            .collect(),
        diagnostics: unit.diagnostics.iter().map(ToString::to_string).collect(),
        has_error: unit
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error),
    }
}

/// The checks a case fails, each with an explanation.
fn compare(sd: &Systemd, ours: &Ours) -> Vec<(Check, String)> {
    let mut problems = Vec::new();
    let we_refuse = matches!(ours.load_state, LoadState::BadSetting | LoadState::Error);
    if sd.refused != we_refuse {
        problems.push((
            Check::Refusal,
            format!(
                "systemd {} the unit, our load state is {}",
                if sd.refused { "refuses" } else { "accepts" },
                ours.load_state
            ),
        ));
    }
    let missing: Vec<usize> = sd.lines.difference(&ours.lines).copied().collect();
    if !missing.is_empty() {
        problems.push((
            Check::Lines,
            format!("systemd complains about lines {missing:?}, we do not"),
        ));
    }
    if sd.output.is_empty() && ours.has_error {
        problems.push((
            Check::Silence,
            "systemd accepts the unit silently, we report an error".to_string(),
        ));
    }
    problems
}

/// What both sides said about a case, for the failure message.
fn account(name: &str, problems: &[(Check, String)], sd: &Systemd, ours: &Ours) -> String {
    let mut s = format!("== {name}\n");
    for (check, why) in problems {
        let _ = writeln!(s, "   DIVERGENCE {check:?}: {why}");
    }
    for l in &sd.output {
        let _ = writeln!(s, "   systemd: {l}");
    }
    let _ = writeln!(s, "   ours ({}):", ours.load_state);
    for d in &ours.diagnostics {
        let _ = writeln!(s, "     {d}");
    }
    s
}

#[test]
fn verify_agrees_with_systemd() {
    assert!(
        Path::new(ANALYZE).exists(),
        "{ANALYZE} is missing: this test compares against systemd 252; install it with \
         `apt-get install systemd`"
    );
    let dir: PathBuf =
        std::env::temp_dir().join(format!("unitfile-verifydiff-{}", std::process::id()));
    prepare(&dir);
    let systemd = run_systemd(&dir);
    let lookup = Lookup::new(vec![dir.clone()]);
    let host = HostFacts::from_system();

    let verbose = std::env::var_os("VERIFYDIFF_VERBOSE").is_some();
    let known: BTreeSet<(&str, Check)> = KNOWN_DIVERGENCES
        .iter()
        .map(|(name, check, _)| (*name, *check))
        .collect();
    let mut found = BTreeSet::new();
    let mut new = Vec::new();
    let mut accounts = String::new();
    for ((name, _), sd) in CASES.iter().zip(&systemd) {
        let ours = run_ours(&lookup, &host, &dir, name);
        let problems = compare(sd, &ours);
        let mut unexpected = false;
        for (check, _) in &problems {
            found.insert((*name, *check));
            if !known.contains(&(*name, *check)) {
                new.push((*name, *check));
                unexpected = true;
            }
        }
        let text = account(name, &problems, sd, &ours);
        if verbose {
            eprint!("{text}");
        }
        if unexpected || known.iter().any(|(k, _)| k == name) {
            accounts.push_str(&text);
        }
    }
    fs::remove_dir_all(&dir).unwrap();

    let fixed: Vec<_> = known.difference(&found).collect();
    assert!(
        new.is_empty() && fixed.is_empty(),
        "new divergences from systemd: {new:?}\nknown divergences that now agree (remove them \
         from KNOWN_DIVERGENCES): {fixed:?}\n{accounts}"
    );
}

#[test]
fn known_divergences_name_real_cases() {
    for (name, _, _) in KNOWN_DIVERGENCES {
        assert!(
            CASES.iter().any(|(n, _)| n == name),
            "KNOWN_DIVERGENCES names {name}, which is not in CASES"
        );
    }
    let mut names: Vec<&str> = CASES.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CASES.len(), "case names must be unique");
}
