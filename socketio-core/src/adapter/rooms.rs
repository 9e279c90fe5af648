//! In-memory room membership for one namespace (what [`super::LocalAdapter`] keeps).

use foldhash::{HashMap, HashSet};
use std::sync::RwLock;

use crate::engine::sid::Sid;

/// Room → members and member → rooms, kept in step under one lock that is never held across an
/// `.await`.
#[derive(Default)]
pub(crate) struct Rooms {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    members: HashMap<String, HashSet<Sid>>,
    rooms_of: HashMap<Sid, HashSet<String>>,
}

impl Rooms {
    /// Adds `sid` to `room`; `true` if it was not in it.
    pub(crate) fn join(&self, sid: Sid, room: &str) -> bool {
        let mut inner = self.inner.write().unwrap();
        inner
            .members
            .entry(room.to_owned())
            .or_default()
            .insert(sid);
        inner
            .rooms_of
            .entry(sid)
            .or_default()
            .insert(room.to_owned())
    }

    /// Removes `sid` from `room`; `true` if it was in it.
    pub(crate) fn leave(&self, sid: Sid, room: &str) -> bool {
        let mut inner = self.inner.write().unwrap();
        let was = inner
            .rooms_of
            .get_mut(&sid)
            .is_some_and(|rooms| rooms.remove(room));
        inner.remove_member(room, sid);
        was
    }

    /// Removes `sid` from every room; the rooms it was in.
    pub(crate) fn leave_all(&self, sid: Sid) -> Vec<String> {
        let mut inner = self.inner.write().unwrap();
        let rooms: Vec<String> = inner
            .rooms_of
            .remove(&sid)
            .unwrap_or_default()
            .into_iter()
            .collect();
        for room in &rooms {
            inner.remove_member(room, sid);
        }
        rooms
    }

    /// The rooms `sid` is in, sorted.
    pub(crate) fn rooms_of(&self, sid: Sid) -> Vec<String> {
        let inner = self.inner.read().unwrap();
        let mut rooms: Vec<String> = inner
            .rooms_of
            .get(&sid)
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default();
        rooms.sort();
        rooms
    }

    /// Members of any of `rooms`, minus members of any of `except`, each once. One room (the
    /// common broadcast) is read straight from its member set, without hashing each member
    /// into a new set; several rooms are merged into a set sized for them all.
    pub(crate) fn members(&self, rooms: &[String], except: &[String]) -> Vec<Sid> {
        let inner = self.inner.read().unwrap();
        let excluded: HashSet<Sid> = except
            .iter()
            .filter_map(|r| inner.members.get(r))
            .flatten()
            .copied()
            .collect();
        let kept = |sid: &Sid| excluded.is_empty() || !excluded.contains(sid);
        if let [room] = rooms {
            return inner
                .members
                .get(room)
                .map(|set| set.iter().copied().filter(kept).collect())
                .unwrap_or_default();
        }
        let sets: Vec<&HashSet<Sid>> = rooms.iter().filter_map(|r| inner.members.get(r)).collect();
        let mut seen = HashSet::with_capacity_and_hasher(
            sets.iter().map(|s| s.len()).sum(),
            Default::default(),
        );
        let mut out = Vec::with_capacity(seen.capacity());
        for sid in sets.into_iter().flatten().copied() {
            if kept(&sid) && seen.insert(sid) {
                out.push(sid);
            }
        }
        out
    }

    /// Members of any of `except` (to filter a namespace-wide broadcast).
    pub(crate) fn excluded(&self, except: &[String]) -> HashSet<Sid> {
        let inner = self.inner.read().unwrap();
        except
            .iter()
            .filter_map(|r| inner.members.get(r))
            .flatten()
            .copied()
            .collect()
    }

    /// Names of all rooms that have members, sorted.
    pub(crate) fn all_rooms(&self) -> Vec<String> {
        let mut rooms: Vec<String> = self.inner.read().unwrap().members.keys().cloned().collect();
        rooms.sort();
        rooms
    }
}

impl Inner {
    fn remove_member(&mut self, room: &str, sid: Sid) {
        if let Some(set) = self.members.get_mut(room) {
            set.remove(&sid);
            if set.is_empty() {
                self.members.remove(room);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_leave_and_filters() {
        let rooms = Rooms::default();
        let (a, b, c) = (Sid::new(), Sid::new(), Sid::new());
        rooms.join(a, "r");
        rooms.join(b, "r");
        rooms.join(c, "s");
        rooms.join(a, a.as_str());
        let members = |r: &[&str], e: &[&str]| {
            let (r, e): (Vec<String>, Vec<String>) = (
                r.iter().map(|s| s.to_string()).collect(),
                e.iter().map(|s| s.to_string()).collect(),
            );
            let list = rooms.members(&r, &e);
            let set: HashSet<Sid> = list.iter().copied().collect();
            assert_eq!(set.len(), list.len(), "each member once");
            set
        };
        assert_eq!(members(&["r"], &[]), HashSet::from_iter([a, b]));
        assert_eq!(
            members(&["r", "s"], &[a.as_str()]),
            HashSet::from_iter([b, c])
        );
        // overlapping rooms, and a single room with exceptions
        assert_eq!(
            members(&["r", "r", a.as_str()], &[]),
            HashSet::from_iter([a, b])
        );
        assert_eq!(members(&["r"], &["s", a.as_str()]), HashSet::from_iter([b]));
        assert!(members(&["nobody"], &[]).is_empty());
        assert_eq!(
            rooms.excluded(&["r".into(), "s".into()]),
            HashSet::from_iter([a, b, c])
        );
        rooms.leave(b, "r");
        assert_eq!(members(&["r"], &[]), HashSet::from_iter([a]));
        let mut expected = vec!["r".to_string(), a.to_string()];
        expected.sort();
        assert_eq!(rooms.rooms_of(a), expected);
        rooms.leave_all(a);
        assert!(rooms.rooms_of(a).is_empty());
        assert_eq!(rooms.all_rooms(), vec!["s".to_string()]);
    }
}
