//! Users and groups from `/etc/passwd` and `/etc/group` (no NSS: PID 1's manager must not
//! load modules or talk to a directory server to start a service).

use std::fs;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
}

/// The user and group databases, read once per spawn from a root directory.
#[derive(Debug, Clone, Default)]
pub struct Db {
    users: Vec<User>,
    /// (name, gid, member names)
    groups: Vec<(String, u32, Vec<String>)>,
}

impl Db {
    /// Reads `etc/passwd` and `etc/group` below `root` (`/` on a real system); missing or
    /// unreadable files give an empty database, so only numeric ids resolve.
    pub fn load(root: &Path) -> Db {
        let passwd = fs::read_to_string(root.join("etc/passwd")).unwrap_or_default();
        let group = fs::read_to_string(root.join("etc/group")).unwrap_or_default();
        Db::parse(&passwd, &group)
    }

    pub fn parse(passwd: &str, group: &str) -> Db {
        let users = passwd
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                let [name, _, uid, gid, _, home, shell] = f.as_slice() else {
                    return None;
                };
                Some(User {
                    name: name.to_string(),
                    uid: uid.parse().ok()?,
                    gid: gid.parse().ok()?,
                    home: home.to_string(),
                    shell: shell.to_string(),
                })
            })
            .collect();
        let groups = group
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                let [name, _, gid, members] = f.as_slice() else {
                    return None;
                };
                let members = members
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect();
                Some((name.to_string(), gid.parse().ok()?, members))
            })
            .collect();
        Db { users, groups }
    }

    /// A user by name or number; a number not in the database still resolves (with the
    /// same number as group, `/` as home), as systemd allows for numeric `User=`.
    pub fn user(&self, name_or_id: &str) -> Option<User> {
        if let Some(u) = self.users.iter().find(|u| u.name == name_or_id) {
            return Some(u.clone());
        }
        let uid: u32 = name_or_id.parse().ok()?;
        Some(
            self.users
                .iter()
                .find(|u| u.uid == uid)
                .cloned()
                .unwrap_or(User {
                    name: name_or_id.to_string(),
                    uid,
                    gid: uid,
                    home: "/".to_string(),
                    shell: "/bin/sh".to_string(),
                }),
        )
    }

    /// A group by name or number.
    pub fn group(&self, name_or_id: &str) -> Option<u32> {
        if let Some((_, gid, _)) = self.groups.iter().find(|(n, _, _)| n == name_or_id) {
            return Some(*gid);
        }
        name_or_id.parse().ok()
    }

    /// The groups listing `user` as a member (what initgroups(3) adds).
    pub fn member_of(&self, user: &str) -> Vec<u32> {
        self.groups
            .iter()
            .filter(|(_, _, members)| members.iter().any(|m| m == user))
            .map(|(_, gid, _)| *gid)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
                          www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n\
                          broken line\n";
    const GROUP: &str = "root:x:0:\nadm:x:4:syslog,www-data\nwww-data:x:33:\nwheel:x:10:root\n";

    #[test]
    fn users_by_name_and_number() {
        let db = Db::parse(PASSWD, GROUP);
        assert_eq!(db.user("www-data").unwrap().home, "/var/www");
        assert_eq!(db.user("33").unwrap().name, "www-data");
        let numeric = db.user("4242").unwrap();
        assert_eq!((numeric.uid, numeric.gid), (4242, 4242));
        assert_eq!(db.user("nobody-here"), None);
    }

    #[test]
    fn groups_and_memberships() {
        let db = Db::parse(PASSWD, GROUP);
        assert_eq!(db.group("adm"), Some(4));
        assert_eq!(db.group("99"), Some(99));
        assert_eq!(db.group("nope"), None);
        assert_eq!(db.member_of("www-data"), vec![4]);
        assert_eq!(db.member_of("root"), vec![10]);
    }
}
