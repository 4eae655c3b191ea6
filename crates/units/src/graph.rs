//! The dependency graph between units, as systemd keeps it: every dependency is stored in
//! both directions (`A Requires= B` is also `B RequiredBy A`), so the job engine can walk
//! it either way. Units are numbered by the registry; the graph knows only numbers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A unit's number in the manager's registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitId(pub u32);

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One kind of edge. Each forward kind has an inverse; `JoinsNamespaceOf` is its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dependency {
    Requires,
    RequiredBy,
    Requisite,
    RequisiteOf,
    Wants,
    WantedBy,
    BindsTo,
    BoundBy,
    PartOf,
    ConsistsOf,
    Upholds,
    UpheldBy,
    Conflicts,
    ConflictedBy,
    Before,
    After,
    OnSuccess,
    OnSuccessOf,
    OnFailure,
    OnFailureOf,
    /// A socket, timer or path unit and the unit it activates.
    Triggers,
    TriggeredBy,
    PropagatesReloadTo,
    ReloadPropagatedFrom,
    PropagatesStopTo,
    StopPropagatedFrom,
    JoinsNamespaceOf,
    /// A unit and the slice it runs in.
    InSlice,
    SliceOf,
}

impl Dependency {
    /// The edge stored on the other unit.
    pub fn inverse(self) -> Dependency {
        use Dependency::*;
        match self {
            Requires => RequiredBy,
            RequiredBy => Requires,
            Requisite => RequisiteOf,
            RequisiteOf => Requisite,
            Wants => WantedBy,
            WantedBy => Wants,
            BindsTo => BoundBy,
            BoundBy => BindsTo,
            PartOf => ConsistsOf,
            ConsistsOf => PartOf,
            Upholds => UpheldBy,
            UpheldBy => Upholds,
            Conflicts => ConflictedBy,
            ConflictedBy => Conflicts,
            Before => After,
            After => Before,
            OnSuccess => OnSuccessOf,
            OnSuccessOf => OnSuccess,
            OnFailure => OnFailureOf,
            OnFailureOf => OnFailure,
            Triggers => TriggeredBy,
            TriggeredBy => Triggers,
            PropagatesReloadTo => ReloadPropagatedFrom,
            ReloadPropagatedFrom => PropagatesReloadTo,
            PropagatesStopTo => StopPropagatedFrom,
            StopPropagatedFrom => PropagatesStopTo,
            JoinsNamespaceOf => JoinsNamespaceOf,
            InSlice => SliceOf,
            SliceOf => InSlice,
        }
    }
}

/// Edges per unit and kind, in a deterministic (sorted) order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    edges: BTreeMap<UnitId, BTreeMap<Dependency, BTreeSet<UnitId>>>,
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    /// Adds `from dep to` and its inverse. A unit depending on itself is ignored, as in
    /// systemd.
    pub fn add(&mut self, from: UnitId, dep: Dependency, to: UnitId) {
        if from == to {
            return;
        }
        self.edges
            .entry(from)
            .or_default()
            .entry(dep)
            .or_default()
            .insert(to);
        self.edges
            .entry(to)
            .or_default()
            .entry(dep.inverse())
            .or_default()
            .insert(from);
    }

    /// The units `u` has an edge of kind `dep` to.
    pub fn get(&self, u: UnitId, dep: Dependency) -> impl Iterator<Item = UnitId> + '_ {
        self.edges
            .get(&u)
            .and_then(|m| m.get(&dep))
            .into_iter()
            .flatten()
            .copied()
    }

    pub fn has(&self, from: UnitId, dep: Dependency, to: UnitId) -> bool {
        self.edges
            .get(&from)
            .and_then(|m| m.get(&dep))
            .is_some_and(|s| s.contains(&to))
    }

    /// Removes every edge of `u`, in both directions (before `u` is loaded again).
    pub fn remove_unit(&mut self, u: UnitId) {
        let Some(mine) = self.edges.remove(&u) else {
            return;
        };
        for (dep, others) in mine {
            for other in others {
                if let Some(set) = self
                    .edges
                    .get_mut(&other)
                    .and_then(|m| m.get_mut(&dep.inverse()))
                {
                    set.remove(&u);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Dependency::*;

    const ALL: [Dependency; 29] = [
        Requires,
        RequiredBy,
        Requisite,
        RequisiteOf,
        Wants,
        WantedBy,
        BindsTo,
        BoundBy,
        PartOf,
        ConsistsOf,
        Upholds,
        UpheldBy,
        Conflicts,
        ConflictedBy,
        Before,
        After,
        OnSuccess,
        OnSuccessOf,
        OnFailure,
        OnFailureOf,
        Triggers,
        TriggeredBy,
        PropagatesReloadTo,
        ReloadPropagatedFrom,
        PropagatesStopTo,
        StopPropagatedFrom,
        JoinsNamespaceOf,
        InSlice,
        SliceOf,
    ];

    #[test]
    fn inverse_is_an_involution() {
        for d in ALL {
            assert_eq!(d.inverse().inverse(), d, "{d:?}");
        }
    }

    #[test]
    fn edges_are_stored_both_ways_and_removed_both_ways() {
        let (a, b, c) = (UnitId(1), UnitId(2), UnitId(3));
        let mut g = Graph::new();
        g.add(a, Requires, b);
        g.add(a, After, b);
        g.add(c, Wants, a);
        g.add(a, Requires, a);
        assert!(g.has(b, RequiredBy, a));
        assert!(g.has(b, Before, a));
        assert_eq!(g.get(a, WantedBy).collect::<Vec<_>>(), vec![c]);
        assert_eq!(g.get(a, Requires).collect::<Vec<_>>(), vec![b]);
        g.remove_unit(a);
        assert_eq!(g.get(b, RequiredBy).count(), 0);
        assert_eq!(g.get(c, Wants).count(), 0);
        assert_eq!(g.get(a, Requires).count(), 0);
    }
}
