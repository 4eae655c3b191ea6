//! [`Sparse`]: a group of settings that most units leave at their defaults, stored only
//! once one of them is set.
//!
//! A unit's typed configuration is large (an `ExecContext` alone is about a kilobyte of
//! mostly empty lists and unset options), and the manager keeps one per loaded unit. A
//! `Sparse<T>` is a single pointer while `T` is at its default, and reads as that default
//! through `Deref`, so code that reads `service.exec.user` or passes `&service.exec` as an
//! `&ExecContext` does not change. Writing through `DerefMut` allocates the value; the
//! parser uses [`Sparse::update`] instead, which gives the memory back when the assignment
//! left the value at its default (an unrelated key, or a reset).

use std::fmt;
use std::ops::{Deref, DerefMut};

/// A type whose default value can be shared: one instance per type, made on first use.
pub trait SharedDefault: Default + PartialEq + 'static {
    /// The shared default value.
    fn shared_default() -> &'static Self;
}

/// Implements [`SharedDefault`] with a `OnceLock` per type.
macro_rules! shared_default {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::model::sparse::SharedDefault for $t {
            fn shared_default() -> &'static Self {
                static DEFAULT: std::sync::OnceLock<$t> = std::sync::OnceLock::new();
                DEFAULT.get_or_init(<$t>::default)
            }
        }
    )*};
}
pub(crate) use shared_default;

/// A list that is usually empty (conditions, the directives kept aside) costs one pointer
/// instead of three words as a `Sparse<Vec<T>>`.
impl<T: PartialEq + 'static> SharedDefault for Vec<T> {
    fn shared_default() -> &'static Self {
        const { &Vec::new() }
    }
}

/// `T`, allocated only while it differs from `T::default()`. See the module documentation.
#[derive(Clone, Default)]
pub struct Sparse<T>(Option<Box<T>>);

impl<T: SharedDefault> Sparse<T> {
    /// Wraps a value; a default one takes no memory.
    pub fn new(value: T) -> Sparse<T> {
        if value == T::default() {
            Sparse(None)
        } else {
            Sparse(Some(Box::new(value)))
        }
    }

    /// Whether a value is stored (something differs from the default).
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// Runs `f` on the value and keeps the result only if it is not the default.
    pub fn update<R>(&mut self, f: impl FnOnce(&mut T) -> R) -> R {
        match &mut self.0 {
            Some(value) => {
                let result = f(value);
                if **value == T::default() {
                    self.0 = None;
                }
                result
            }
            None => {
                // Most assignments offered here belong elsewhere: try them on a value on
                // the stack, and allocate only when one changed it.
                let mut value = T::default();
                let result = f(&mut value);
                if value != T::default() {
                    self.0 = Some(Box::new(value));
                }
                result
            }
        }
    }
}

impl<T: SharedDefault> Deref for Sparse<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.0 {
            Some(v) => v,
            None => T::shared_default(),
        }
    }
}

impl<T: SharedDefault> DerefMut for Sparse<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

impl<T: SharedDefault> From<T> for Sparse<T> {
    fn from(value: T) -> Sparse<T> {
        Sparse::new(value)
    }
}

/// Compares values, so a stored default equals an absent one.
impl<T: SharedDefault> PartialEq for Sparse<T> {
    fn eq(&self, other: &Sparse<T>) -> bool {
        **self == **other
    }
}

impl<T: SharedDefault + Eq> Eq for Sparse<T> {}

/// Prints the value, exactly as a plain `T` field would.
impl<T: SharedDefault + fmt::Debug> fmt::Debug for Sparse<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    struct Settings {
        name: Option<String>,
        list: Vec<u32>,
    }
    shared_default!(Settings);

    #[test]
    fn an_unset_value_reads_as_the_default_and_takes_no_memory() {
        let s: Sparse<Settings> = Sparse::default();
        assert!(!s.is_set());
        assert_eq!(*s, Settings::default());
        assert_eq!(s.name, None);
        assert_eq!(std::mem::size_of::<Sparse<Settings>>(), 8);
    }

    #[test]
    fn update_keeps_only_values_that_differ_from_the_default() {
        let mut s: Sparse<Settings> = Sparse::default();
        // A key the settings do not know leaves nothing behind.
        assert!(!s.update(|_| false));
        assert!(!s.is_set());
        assert!(s.update(|v| {
            v.list.push(3);
            true
        }));
        assert!(s.is_set());
        assert_eq!(s.list, vec![3]);
        // A reset back to the default frees the value again.
        s.update(|v| v.list.clear());
        assert!(!s.is_set());
    }

    #[test]
    fn writes_through_deref_mut_allocate_and_equality_compares_values() {
        let mut a: Sparse<Settings> = Sparse::default();
        a.name.replace("x".into());
        assert!(a.is_set());
        assert_eq!(a.name.as_deref(), Some("x"));
        let mut b: Sparse<Settings> = Sparse::default();
        assert_ne!(a, b);
        b.name.replace("x".into());
        assert_eq!(a, b);
        // A stored default equals an absent value.
        let mut c: Sparse<Settings> = Sparse::default();
        c.list.clear();
        assert!(c.is_set());
        assert_eq!(c, Sparse::default());
        assert_eq!(Sparse::new(Settings::default()), Sparse::default());
        assert!(!Sparse::new(Settings::default()).is_set());
    }

    #[test]
    fn debug_output_is_the_values() {
        let mut s: Sparse<Settings> = Sparse::default();
        assert_eq!(format!("{s:?}"), format!("{:?}", Settings::default()));
        s.list.push(1);
        assert_eq!(
            format!("{s:?}"),
            format!(
                "{:?}",
                Settings {
                    name: None,
                    list: vec![1]
                }
            )
        );
    }
}
