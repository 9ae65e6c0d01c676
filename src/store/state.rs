//! Queue states and the transitions allowed between them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where a packet is in its life on the kit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Sealed and durable on disk, waiting for upload.
    Sealed,
    /// An upload is in progress (or was interrupted; the hub's offset is the truth).
    Uploading,
    /// The hub signed a receipt; the packet file is kept until the retention policy purges it.
    Acknowledged,
    /// The file was removed after acknowledgement; the row stays as the record.
    Purged,
    /// The file failed verification on disk and was moved to `quarantine/`.
    Quarantined,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Sealed,
        State::Uploading,
        State::Acknowledged,
        State::Purged,
        State::Quarantined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Sealed => "sealed",
            State::Uploading => "uploading",
            State::Acknowledged => "acknowledged",
            State::Purged => "purged",
            State::Quarantined => "quarantined",
        }
    }

    /// Whether `self → to` is a legal transition.
    pub fn can_go_to(self, to: State) -> bool {
        use State::*;
        matches!(
            (self, to),
            (Sealed, Uploading)
                | (Uploading, Sealed)
                | (Uploading, Acknowledged)
                | (Acknowledged, Purged)
                | (Sealed | Uploading | Acknowledged, Quarantined)
        )
    }

    /// Whether a packet in this state should have its file in `packets/`.
    pub fn expects_file(self) -> bool {
        matches!(self, State::Sealed | State::Uploading | State::Acknowledged)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        State::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown queue state {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::State::{self, *};

    #[test]
    fn exactly_the_designed_transitions_are_allowed() {
        let allowed = [
            (Sealed, Uploading),
            (Uploading, Sealed),
            (Uploading, Acknowledged),
            (Acknowledged, Purged),
            (Sealed, Quarantined),
            (Uploading, Quarantined),
            (Acknowledged, Quarantined),
        ];
        for from in State::ALL {
            for to in State::ALL {
                assert_eq!(
                    from.can_go_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in State::ALL {
            assert_eq!(s.as_str().parse::<State>().unwrap(), s);
        }
        assert!("lost".parse::<State>().is_err());
    }
}
