//! `proto` holds the control API's request and reply types and their framing
//! (varlink-style JSON over a Unix socket). It carries data only: no logic, no I/O policy,
//! no knowledge of how the manager answers. (Skeleton: filled in with the manager.)
