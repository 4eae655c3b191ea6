//! inotify: watching rules directories and device nodes. To be written.
