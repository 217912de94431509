//! The roles a declaration can play.

use std::fmt;

/// The role a component plays; `Agent` is the optional `agent { ... }` block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Source,
    Channel,
    Sink,
    Transform,
    Group,
    Agent,
}

impl Role {
    /// The roles a `ROLE NAME = KIND { ... }` declaration can have, in keyword order.
    pub const COMPONENTS: [Role; 5] = [
        Role::Source,
        Role::Channel,
        Role::Sink,
        Role::Transform,
        Role::Group,
    ];

    /// The keyword that declares this role (`source`, ..., `agent`).
    pub fn keyword(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Channel => "channel",
            Role::Sink => "sink",
            Role::Transform => "transform",
            Role::Group => "group",
            Role::Agent => "agent",
        }
    }

    /// The role declared by `keyword`.
    pub fn from_keyword(keyword: &str) -> Option<Role> {
        Role::COMPONENTS
            .into_iter()
            .chain([Role::Agent])
            .find(|r| r.keyword() == keyword)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_round_trip() {
        for role in Role::COMPONENTS.into_iter().chain([Role::Agent]) {
            assert_eq!(Role::from_keyword(role.keyword()), Some(role));
        }
        assert_eq!(Role::from_keyword("flow"), None);
    }
}
