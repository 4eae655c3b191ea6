//! The dependency graph between units, as systemd keeps it: every dependency is stored in
//! both directions (`A Requires= B` is also `B RequiredBy A`), so the job engine can walk
//! it either way. Units are numbered by the registry; the graph knows only numbers.
//!
//! Storage is one sorted edge list per unit, indexed by the unit's number: the registry
//! hands out numbers densely from 0, so a vector beats a map, and a flat list of
//! `(kind, other unit)` pairs packed into 4 bytes each beats a map of sets per kind, which
//! costs a tree node per kind and per edge. Keeping each list sorted by kind, then unit,
//! gives the same ascending order for [`Graph::get`] as the sets did, and binary search
//! finds an edge or a kind's run of edges. The packing leaves 27 bits for the unit: a unit
//! numbered [`MAX_UNIT`] or above has no edges (no manager comes near 134 million units).

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

/// Every kind, by its number (`kind as usize`).
const KINDS: [Dependency; 29] = {
    use Dependency::*;
    [
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
    ]
};

/// Bits of an [`Edge`] that hold the other unit; the kind is above them.
const UNIT_BITS: u32 = 27;
/// The first unit number an edge cannot hold.
pub const MAX_UNIT: u32 = 1 << UNIT_BITS;

/// One edge as stored on a unit: its kind in the top 5 bits, the unit at the other end in
/// the low 27. Comparing the packed numbers orders by kind, then unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Edge(u32);

impl Edge {
    /// `None` for a unit numbered [`MAX_UNIT`] or above.
    fn new(kind: Dependency, other: UnitId) -> Option<Edge> {
        (other.0 < MAX_UNIT).then(|| Edge(kind_start(kind) | other.0))
    }

    fn kind(self) -> Option<Dependency> {
        KINDS.get((self.0 >> UNIT_BITS) as usize).copied()
    }

    fn other(self) -> UnitId {
        UnitId(self.0 & (MAX_UNIT - 1))
    }
}

/// The smallest packed edge of `kind`; 29 kinds fit below `u32::MAX`.
fn kind_start(kind: Dependency) -> u32 {
    (kind as u32) << UNIT_BITS
}

/// Edges per unit and kind, in a deterministic (sorted) order.
///
/// Equal edge sets compare equal however they were built: units past the last one with an
/// edge are trimmed, and a unit without edges is an empty list, whatever its capacity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    /// `edges[u]`: the edges of unit `u`, sorted by kind, then other unit, no duplicates.
    edges: Vec<Vec<Edge>>,
}

/// The position of `u` in [`Graph::edges`]; `None` only where `usize` is narrower than
/// `u32`, where such a unit cannot be stored (and has no edges).
fn slot(u: UnitId) -> Option<usize> {
    usize::try_from(u.0).ok()
}

/// Makes room for one more element in `v`, growing by a quarter rather than doubling: most
/// lists stay at a handful of edges, and doubling would leave up to half of them unused.
/// A quarter still keeps the cost of a long run of pushes linear.
fn reserve_one<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 4).max(1));
    }
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
        // Both ends are checked before either is stored, so an edge never exists one way only.
        let (Some(f), Some(t), Some(forward), Some(backward)) = (
            slot(from),
            slot(to),
            Edge::new(dep, to),
            Edge::new(dep.inverse(), from),
        ) else {
            return;
        };
        self.grow_to(f.max(t));
        self.insert(f, forward);
        self.insert(t, backward);
    }

    /// The units `u` has an edge of kind `dep` to, ascending.
    pub fn get(&self, u: UnitId, dep: Dependency) -> impl Iterator<Item = UnitId> + '_ {
        self.of_kind(u, dep).iter().map(|e| e.other())
    }

    pub fn has(&self, from: UnitId, dep: Dependency, to: UnitId) -> bool {
        self.of_kind(from, dep)
            .binary_search_by_key(&to, |e| e.other())
            .is_ok()
    }

    /// Removes every edge of `u`, in both directions (before `u` is loaded again).
    pub fn remove_unit(&mut self, u: UnitId) {
        let Some(mine) = slot(u).and_then(|i| self.edges.get_mut(i)) else {
            return;
        };
        // Taking the list frees its memory; the unit keeps an empty (unallocated) slot.
        let mine = std::mem::take(mine);
        for edge in mine {
            let Some(back) = edge.kind().and_then(|dep| Edge::new(dep.inverse(), u)) else {
                continue;
            };
            if let Some(theirs) = slot(edge.other()).and_then(|i| self.edges.get_mut(i)) {
                if let Ok(pos) = theirs.binary_search(&back) {
                    theirs.remove(pos);
                }
            }
        }
        while self.edges.last().is_some_and(Vec::is_empty) {
            self.edges.pop();
        }
    }

    /// Makes `edges[i]` exist.
    fn grow_to(&mut self, i: usize) {
        while self.edges.len() <= i {
            reserve_one(&mut self.edges);
            self.edges.push(Vec::new());
        }
    }

    /// Inserts `edge` into the list at `i`, keeping it sorted; an edge already there is kept.
    fn insert(&mut self, i: usize, edge: Edge) {
        let Some(list) = self.edges.get_mut(i) else {
            return;
        };
        if let Err(pos) = list.binary_search(&edge) {
            reserve_one(list);
            list.insert(pos, edge);
        }
    }

    /// The run of `u`'s edges of kind `dep`, ascending by the other unit.
    fn of_kind(&self, u: UnitId, dep: Dependency) -> &[Edge] {
        let Some(list) = slot(u).and_then(|i| self.edges.get(i)) else {
            return &[];
        };
        let start = list.partition_point(|e| e.0 < kind_start(dep));
        let from_kind = list.get(start..).unwrap_or_default();
        let len = from_kind.partition_point(|e| e.kind() == Some(dep));
        from_kind.get(..len).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};
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

    /// The edge lists are what bounds the graph's memory: pin their element size.
    #[test]
    fn an_edge_takes_four_bytes() {
        assert_eq!(std::mem::size_of::<Edge>(), 4);
    }

    /// Every kind survives the packing, with units up to the last one that fits.
    #[test]
    fn edges_pack_every_kind_and_unit_number() {
        for (i, d) in ALL.into_iter().enumerate() {
            assert_eq!(KINDS.get(i), Some(&d), "KINDS is in declaration order");
            for u in [0, 1, 12345, MAX_UNIT - 1] {
                let e = Edge::new(d, UnitId(u)).unwrap();
                assert_eq!((e.kind(), e.other()), (Some(d), UnitId(u)));
            }
            assert_eq!(Edge::new(d, UnitId(MAX_UNIT)), None);
        }
        // An edge to a unit the packing cannot hold is not stored, in either direction.
        let mut g = Graph::new();
        g.add(UnitId(0), Requires, UnitId(MAX_UNIT));
        g.add(UnitId(MAX_UNIT), Requires, UnitId(0));
        assert_eq!(g, Graph::new());
    }

    /// `get` yields the units of one kind ascending, whatever order they were added in,
    /// and never those of a neighbouring kind in the sorted list.
    #[test]
    fn get_yields_one_kind_ascending() {
        let u = UnitId;
        // (edges added, unit asked, kind asked, units expected)
        type Adds = &'static [(u32, Dependency, u32)];
        let cases: &[(Adds, u32, Dependency, &[u32])] = &[
            (
                &[(1, Wants, 9), (1, Wants, 3), (1, Wants, 5)],
                1,
                Wants,
                &[3, 5, 9],
            ),
            (
                &[(1, Requires, 4), (1, Wants, 2), (1, Requisite, 3)],
                1,
                Wants,
                &[2],
            ),
            (
                &[(1, Requires, 4), (1, Wants, 2), (1, Requisite, 3)],
                1,
                Requisite,
                &[3],
            ),
            (
                &[(1, Requires, 4), (1, Wants, 2), (1, Requisite, 3)],
                1,
                RequiredBy,
                &[],
            ),
            (
                &[(7, After, 1), (3, After, 1), (5, After, 1)],
                1,
                Before,
                &[3, 5, 7],
            ),
            (&[(0, SliceOf, 2), (0, InSlice, 1)], 0, SliceOf, &[2]),
            (&[(0, Requires, 1)], 0, Requires, &[1]),
            (&[(0, Requires, 1)], 1, RequiredBy, &[0]),
            (&[(0, Requires, 1)], 2, Requires, &[]),
            (&[(0, Requires, 1)], 4_000_000_000, Requires, &[]),
            (&[(5, JoinsNamespaceOf, 2)], 2, JoinsNamespaceOf, &[5]),
            (&[(5, Requires, 5)], 5, Requires, &[]),
        ];
        for &(edges, of, dep, want) in cases {
            let mut g = Graph::new();
            for &(from, d, to) in edges {
                g.add(u(from), d, u(to));
            }
            let got: Vec<u32> = g.get(u(of), dep).map(|x| x.0).collect();
            assert_eq!(got, want, "edges {edges:?}: get(#{of}, {dep:?})");
        }
    }

    /// Adding an edge twice, or adding its inverse from the other end, stores it once.
    #[test]
    fn an_edge_is_stored_once() {
        let (a, b) = (UnitId(0), UnitId(1));
        let mut once = Graph::new();
        once.add(a, Requires, b);
        let cases: &[&[(UnitId, Dependency, UnitId)]] = &[
            &[(a, Requires, b), (a, Requires, b)],
            &[(a, Requires, b), (b, RequiredBy, a)],
            &[(b, RequiredBy, a)],
            &[(b, RequiredBy, a), (a, Requires, b), (a, Requires, a)],
        ];
        for &adds in cases {
            let mut g = Graph::new();
            for &(from, d, to) in adds {
                g.add(from, d, to);
            }
            assert_eq!(g, once, "{adds:?}");
            assert_eq!(g.get(a, Requires).collect::<Vec<_>>(), vec![b], "{adds:?}");
            assert_eq!(
                g.get(b, RequiredBy).collect::<Vec<_>>(),
                vec![a],
                "{adds:?}"
            );
        }
    }

    /// Removing a hub with edges of every kind to many units leaves no trace of it, keeps
    /// the edges between the others, and gives the graph built without the hub at all.
    #[test]
    fn removing_a_hub_removes_every_edge_both_ways() {
        let hub = UnitId(20);
        let others: Vec<UnitId> = (0..40).filter(|&i| i != 20).map(UnitId).collect();
        let mut g = Graph::new();
        let mut without = Graph::new();
        for (i, &o) in others.iter().enumerate() {
            let d = ALL[i % ALL.len()];
            g.add(hub, d, o);
            g.add(o, d, hub);
            if let Some(&next) = others.get(i + 1) {
                g.add(o, After, next);
                without.add(o, After, next);
            }
        }
        // `hub Requires o` for o = others[0] and others[29]; `o RequiredBy hub` (the same
        // edge from the other end) for others[1] and others[30].
        let requires: Vec<u32> = g.get(hub, Requires).map(|u| u.0).collect();
        assert_eq!(requires, vec![0, 1, 30, 31]);
        g.remove_unit(hub);
        for d in ALL {
            assert_eq!(g.get(hub, d).count(), 0, "{d:?}");
            for &o in &others {
                assert!(!g.has(o, d, hub), "{o} {d:?} {hub}");
            }
        }
        assert_eq!(g, without);
        // Removing the highest unit trims the table, so it still equals the graph built
        // without it.
        let last = UnitId(39);
        g.remove_unit(last);
        let mut without_last = Graph::new();
        for w in others.windows(2) {
            if let [a, b] = *w {
                if b != last {
                    without_last.add(a, After, b);
                }
            }
        }
        assert_eq!(g, without_last);
        g.remove_unit(UnitId(1000));
        assert_eq!(g, without_last);
    }

    /// The former storage, kept as the reference the compact one must agree with.
    #[derive(Debug, Default)]
    struct Reference {
        edges: BTreeMap<UnitId, BTreeMap<Dependency, BTreeSet<UnitId>>>,
    }

    impl Reference {
        fn add(&mut self, from: UnitId, dep: Dependency, to: UnitId) {
            if from == to {
                return;
            }
            let mut one_way = |a: UnitId, d: Dependency, b: UnitId| {
                self.edges
                    .entry(a)
                    .or_default()
                    .entry(d)
                    .or_default()
                    .insert(b);
            };
            one_way(from, dep, to);
            one_way(to, dep.inverse(), from);
        }

        fn get(&self, u: UnitId, dep: Dependency) -> Vec<UnitId> {
            self.edges
                .get(&u)
                .and_then(|m| m.get(&dep))
                .into_iter()
                .flatten()
                .copied()
                .collect()
        }

        fn remove_unit(&mut self, u: UnitId) {
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

        /// Every stored edge, each once per direction.
        fn edges(&self) -> Vec<(UnitId, Dependency, UnitId)> {
            let mut all = Vec::new();
            for (&u, kinds) in &self.edges {
                for (&d, set) in kinds {
                    all.extend(set.iter().map(|&o| (u, d, o)));
                }
            }
            all
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(u32, Dependency, u32),
        Remove(u32),
    }

    /// Few units, so that random operations hit the same edges and units often.
    const UNITS: u32 = 10;

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (0..UNITS, proptest::sample::select(ALL.to_vec()), 0..UNITS)
                .prop_map(|(a, d, b)| Op::Add(a, d, b)),
            1 => (0..UNITS + 2).prop_map(Op::Remove),
        ]
    }

    proptest::proptest! {
        /// Over random add/remove sequences the graph answers `get` and `has` exactly as
        /// the nested-map reference does, and equals the graph built afresh from the
        /// reference's edges (so equality means "same edges", however they got there).
        #[test]
        fn agrees_with_the_reference(ops in proptest::collection::vec(op(), 0..80)) {
            let mut g = Graph::new();
            let mut r = Reference::default();
            for o in &ops {
                match *o {
                    Op::Add(a, d, b) => {
                        g.add(UnitId(a), d, UnitId(b));
                        r.add(UnitId(a), d, UnitId(b));
                    }
                    Op::Remove(u) => {
                        g.remove_unit(UnitId(u));
                        r.remove_unit(UnitId(u));
                    }
                }
                for u in (0..UNITS + 2).map(UnitId) {
                    for d in ALL {
                        proptest::prop_assert_eq!(g.get(u, d).collect::<Vec<_>>(), r.get(u, d));
                    }
                }
            }
            // `has` is checked once, on the final state, for every possible edge.
            for u in (0..UNITS + 2).map(UnitId) {
                for d in ALL {
                    let want = r.get(u, d);
                    for v in (0..UNITS + 2).map(UnitId) {
                        proptest::prop_assert_eq!(g.has(u, d, v), want.contains(&v));
                    }
                }
            }
            let mut fresh = Graph::new();
            for (a, d, b) in r.edges() {
                fresh.add(a, d, b);
            }
            proptest::prop_assert_eq!(g, fresh);
        }
    }
}
