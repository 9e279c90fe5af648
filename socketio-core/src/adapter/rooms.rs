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

    /// Members of any of `rooms`, minus members of any of `except`.
    pub(crate) fn members(&self, rooms: &[String], except: &[String]) -> HashSet<Sid> {
        let inner = self.inner.read().unwrap();
        let mut out: HashSet<Sid> = rooms
            .iter()
            .filter_map(|r| inner.members.get(r))
            .flatten()
            .copied()
            .collect();
        for sid in except.iter().filter_map(|r| inner.members.get(r)).flatten() {
            out.remove(sid);
        }
        out
    }

    /// Members of any of `except` (to filter a namespace-wide broadcast).
    pub(crate) fn excluded(&self, except: &[String]) -> HashSet<Sid> {
        self.members(except, &[])
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
        assert_eq!(
            rooms.members(&["r".into()], &[]),
            HashSet::from_iter([a, b])
        );
        assert_eq!(
            rooms.members(&["r".into(), "s".into()], &[a.to_string()]),
            HashSet::from_iter([b, c])
        );
        rooms.leave(b, "r");
        assert_eq!(rooms.members(&["r".into()], &[]), HashSet::from_iter([a]));
        let mut expected = vec!["r".to_string(), a.to_string()];
        expected.sort();
        assert_eq!(rooms.rooms_of(a), expected);
        rooms.leave_all(a);
        assert!(rooms.rooms_of(a).is_empty());
        assert_eq!(rooms.all_rooms(), vec!["s".to_string()]);
    }
}
