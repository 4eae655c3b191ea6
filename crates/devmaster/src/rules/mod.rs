//! The udev rules language of systemd 252 (udev(7)), pure: parsing, file order, patterns and
//! substitutions. The rule engine ([`crate::engine`]) applies them to events.
//!
//! | module | role |
//! |---|---|
//! | [`syntax`] | one file's bytes → rule lines of typed tokens + `file:line` diagnostics |
//! | [`load`] | the rules directories, override by file name, masks, lexical order; GOTO targets |
//! | [`pattern`] | globs with `|` alternatives and `i"..."`; at most O(len(pattern)·len(string)) steps, no exponential backtracking |
//! | [`subst`] | `%k`/`$kernel` ... against the [`subst::Device`] trait; name character clean-up |

pub mod load;
pub mod pattern;
pub mod subst;
pub mod syntax;
