//! In-memory room membership for one namespace (what [`super::LocalAdapter`] keeps).
//!
//! A room holds its members themselves (the sockets, in a `Vec`), not their ids: a broadcast to
//! one room hands that list to delivery as it is, with no id copied and no socket looked up by
//! id per receiver. Each member's position in a room is kept beside its room name, so leaving
//! is a `swap_remove`, not a scan.

use foldhash::{HashMap, HashSet};
use std::sync::RwLock;

use crate::engine::sid::Sid;

/// What a room holds: a socket (cheap to clone) that knows its id.
pub(crate) trait Member: Clone {
    fn sid(&self) -> Sid;
}

impl Member for crate::socket::SocketRef {
    fn sid(&self) -> Sid {
        self.id()
    }
}

/// Room → members and member → rooms (with the member's index in each room's list), kept in
/// step under one lock that is never held across an `.await`.
pub(crate) struct Rooms<M> {
    inner: RwLock<Inner<M>>,
}

impl<M> Default for Rooms<M> {
    fn default() -> Self {
        Rooms {
            inner: RwLock::new(Inner {
                members: HashMap::default(),
                rooms_of: HashMap::default(),
            }),
        }
    }
}

struct Inner<M> {
    members: HashMap<String, Vec<M>>,
    rooms_of: HashMap<Sid, HashMap<String, usize>>,
}

/// The members of a broadcast's selection ([`Rooms::with_selected`]): one room's list as it is,
/// or a list made for several rooms or exceptions.
pub(crate) enum Selected<'a, M> {
    /// The members of the one room named, none excepted (the common broadcast).
    Room(&'a [M]),
    /// Several rooms merged (each member once), or some excepted.
    Made(Vec<M>),
}

impl<M> std::ops::Deref for Selected<'_, M> {
    type Target = [M];
    fn deref(&self) -> &[M] {
        match self {
            Selected::Room(list) => list,
            Selected::Made(list) => list,
        }
    }
}

impl<M: Member> Rooms<M> {
    /// Adds `member` to `room`; `true` if it was not in it.
    pub(crate) fn join(&self, member: &M, room: &str) -> bool {
        let mut inner = self.inner.write().unwrap();
        let Inner { members, rooms_of } = &mut *inner;
        let rooms = rooms_of.entry(member.sid()).or_default();
        if rooms.contains_key(room) {
            return false;
        }
        let list = members.entry(room.to_owned()).or_default();
        rooms.insert(room.to_owned(), list.len());
        list.push(member.clone());
        true
    }

    /// Removes `sid` from `room`; `true` if it was in it.
    pub(crate) fn leave(&self, sid: Sid, room: &str) -> bool {
        let mut inner = self.inner.write().unwrap();
        let index = inner
            .rooms_of
            .get_mut(&sid)
            .and_then(|rooms| rooms.remove(room));
        match index {
            Some(index) => {
                inner.remove_member(room, index);
                true
            }
            None => false,
        }
    }

    /// Removes `sid` from every room; the rooms it was in.
    pub(crate) fn leave_all(&self, sid: Sid) -> Vec<String> {
        let mut inner = self.inner.write().unwrap();
        let rooms = inner.rooms_of.remove(&sid).unwrap_or_default();
        let mut left = Vec::with_capacity(rooms.len());
        for (room, index) in rooms {
            inner.remove_member(&room, index);
            left.push(room);
        }
        left
    }

    /// The rooms `sid` is in, sorted.
    pub(crate) fn rooms_of(&self, sid: Sid) -> Vec<String> {
        let inner = self.inner.read().unwrap();
        let mut rooms: Vec<String> = inner
            .rooms_of
            .get(&sid)
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        rooms.sort();
        rooms
    }

    /// Calls `f` with the members of any of `rooms` (at least one), minus members of any of
    /// `except`, each once, under the read lock: `f` must not join or leave rooms of this
    /// namespace (that would wait on the lock it holds). One room with no exception is handed
    /// over as its own list.
    pub(crate) fn with_selected<R>(
        &self,
        rooms: &[String],
        except: &[String],
        f: impl FnOnce(Selected<'_, M>) -> R,
    ) -> R {
        let inner = self.inner.read().unwrap();
        if let ([room], []) = (rooms, except) {
            let list = inner.members.get(room).map(Vec::as_slice).unwrap_or(&[]);
            return f(Selected::Room(list));
        }
        f(Selected::Made(inner.select(rooms, except)))
    }

    /// Members of any of `rooms`, minus members of any of `except`, each once.
    pub(crate) fn members(&self, rooms: &[String], except: &[String]) -> Vec<M> {
        self.with_selected(rooms, except, |selected| match selected {
            Selected::Room(list) => list.to_vec(),
            Selected::Made(list) => list,
        })
    }

    /// Members of any of `except` (to filter a namespace-wide broadcast).
    pub(crate) fn excluded(&self, except: &[String]) -> HashSet<Sid> {
        self.inner.read().unwrap().excluded(except)
    }

    /// Names of all rooms that have members, sorted.
    pub(crate) fn all_rooms(&self) -> Vec<String> {
        let mut rooms: Vec<String> = self.inner.read().unwrap().members.keys().cloned().collect();
        rooms.sort();
        rooms
    }
}

impl<M: Member> Inner<M> {
    /// Takes the member at `index` out of `room`'s list: the last member moves into its place
    /// (its index is updated), and an empty room is dropped.
    fn remove_member(&mut self, room: &str, index: usize) {
        let Some(list) = self.members.get_mut(room) else {
            return;
        };
        list.swap_remove(index);
        if let Some(moved) = list.get(index) {
            if let Some(at) = self
                .rooms_of
                .get_mut(&moved.sid())
                .and_then(|rooms| rooms.get_mut(room))
            {
                *at = index;
            }
        }
        if list.is_empty() {
            self.members.remove(room);
        } else if list.len() < list.capacity() / 4 {
            // A room that emptied out gives most of its memory back.
            list.shrink_to(list.len() * 2);
        }
    }

    fn excluded(&self, except: &[String]) -> HashSet<Sid> {
        except
            .iter()
            .filter_map(|r| self.members.get(r))
            .flatten()
            .map(Member::sid)
            .collect()
    }

    /// Members of any of `rooms`, minus members of any of `except`, each once.
    fn select(&self, rooms: &[String], except: &[String]) -> Vec<M> {
        let excluded = self.excluded(except);
        let kept = |member: &M| excluded.is_empty() || !excluded.contains(&member.sid());
        if let [room] = rooms {
            return self
                .members
                .get(room)
                .map(|list| list.iter().filter(|m| kept(m)).cloned().collect())
                .unwrap_or_default();
        }
        let lists: Vec<&Vec<M>> = rooms.iter().filter_map(|r| self.members.get(r)).collect();
        let total = lists.iter().map(|l| l.len()).sum();
        let mut seen = HashSet::with_capacity_and_hasher(total, Default::default());
        let mut out = Vec::with_capacity(total);
        for member in lists.into_iter().flatten() {
            if kept(member) && seen.insert(member.sid()) {
                out.push(member.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Member for Sid {
        fn sid(&self) -> Sid {
            *self
        }
    }

    #[test]
    fn join_leave_and_filters() {
        let rooms = Rooms::<Sid>::default();
        let (a, b, c) = (Sid::new(), Sid::new(), Sid::new());
        assert!(rooms.join(&a, "r"));
        assert!(!rooms.join(&a, "r"), "already in it");
        rooms.join(&b, "r");
        rooms.join(&c, "s");
        rooms.join(&a, a.as_str());
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
        assert!(rooms.leave(b, "r"));
        assert!(!rooms.leave(b, "r"), "no longer in it");
        assert_eq!(members(&["r"], &[]), HashSet::from_iter([a]));
        let mut expected = vec!["r".to_string(), a.to_string()];
        expected.sort();
        assert_eq!(rooms.rooms_of(a), expected);
        let mut left = rooms.leave_all(a);
        left.sort();
        assert_eq!(left, expected);
        assert!(rooms.rooms_of(a).is_empty());
        assert_eq!(rooms.all_rooms(), vec!["s".to_string()]);
    }

    /// Leaving moves the room's last member into the gap: every index stays right through
    /// joins and leaves in any order (checked against a plain set after each step).
    #[test]
    fn indexes_stay_right_through_churn() {
        let rooms = Rooms::<Sid>::default();
        let sids: Vec<Sid> = (0..64).map(|_| Sid::new()).collect();
        let mut model: Vec<HashSet<Sid>> = vec![HashSet::default(); 3];
        let names = ["x", "y", "z"];
        // A fixed pseudo-random walk of joins and leaves.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..4_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let sid = sids[(seed % 64) as usize];
            let room = ((seed >> 8) % 3) as usize;
            match (seed >> 16) % 5 {
                0 => {
                    rooms.leave_all(sid);
                    model.iter_mut().for_each(|m| {
                        m.remove(&sid);
                    });
                }
                1 | 2 => {
                    assert_eq!(rooms.leave(sid, names[room]), model[room].remove(&sid));
                }
                _ => {
                    assert_eq!(rooms.join(&sid, names[room]), model[room].insert(sid));
                }
            }
            for (room, want) in names.iter().zip(&model) {
                let got: Vec<Sid> = rooms.members(&[room.to_string()], &[]);
                assert_eq!(got.len(), want.len(), "room {room}");
                assert_eq!(got.into_iter().collect::<HashSet<_>>(), *want);
            }
        }
        for sid in &sids {
            let want: Vec<String> = names
                .iter()
                .zip(&model)
                .filter(|(_, m)| m.contains(sid))
                .map(|(n, _)| n.to_string())
                .collect();
            assert_eq!(rooms.rooms_of(*sid), want);
        }
    }
}
