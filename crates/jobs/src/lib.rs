//! `jobs` is the job engine: transactions built from the requirement closure, job merging,
//! conflict detection, ordering and cycle breaking. It is pure and knows units only through
//! the `units` API. (Skeleton: filled in with the manager.)
