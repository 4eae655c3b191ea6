//! `state` defines the manager's persisted runtime state: the snapshot and append-only
//! journal format under `<runtime-dir>/state` (magic, version, checksum, size limits).
//! It never knows how the state is produced or consumed. (Skeleton: filled in with
//! crash recovery.)
