//! Queue states of a packet and the transitions allowed between them.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where a packet is in its life on the kit.
///
/// ```text
/// sealed ⇄ uploading → acknowledged → purged
///    │  └────┴─→ refused ─┐  │
///    └───────┴────────────┴──┴──→ quarantined
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Written durably and waiting for upload.
    Sealed,
    /// An upload is under way (or was interrupted and will resume).
    Uploading,
    /// The hub acknowledged the packet; the receipt is stored.
    Acknowledged,
    /// The file was removed per the retention policy; only the row remains.
    Purged,
    /// The file failed verification on disk and was moved to `quarantine/`.
    Quarantined,
    /// The hub refused the packet for good (e.g. its packet id belongs to another kit); the
    /// transition's note holds the hub's reason. The file stays in `packets/`, is never purged,
    /// and is not uploaded again.
    Refused,
}

impl State {
    /// Every state, in life order.
    pub const ALL: [State; 6] = [
        State::Sealed,
        State::Uploading,
        State::Acknowledged,
        State::Purged,
        State::Quarantined,
        State::Refused,
    ];

    /// The name stored in the queue and printed (`snake_case`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Sealed => "sealed",
            State::Uploading => "uploading",
            State::Acknowledged => "acknowledged",
            State::Purged => "purged",
            State::Quarantined => "quarantined",
            State::Refused => "refused",
        }
    }

    /// True when the state machine allows going from `self` to `to`.
    ///
    /// Allowed: sealed → uploading, uploading → sealed (upload abandoned, retry later),
    /// uploading → acknowledged, acknowledged → purged, sealed or uploading → refused, and any state
    /// but purged and quarantined → quarantined.
    pub fn can_become(self, to: State) -> bool {
        use State::*;
        matches!(
            (self, to),
            (Sealed, Uploading)
                | (Uploading, Sealed)
                | (Uploading, Acknowledged)
                | (Acknowledged, Purged)
                | (Sealed | Uploading, Refused)
                | (Sealed | Uploading | Acknowledged | Refused, Quarantined)
        )
    }

    /// The states `self` may go to, in life order.
    pub fn next_states(self) -> Vec<State> {
        State::ALL
            .into_iter()
            .filter(|&to| self.can_become(to))
            .collect()
    }

    /// True when the packet's file lives in `packets/` (and must exist there).
    pub fn file_in_packets(self) -> bool {
        matches!(
            self,
            State::Sealed | State::Uploading | State::Acknowledged | State::Refused
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state name that is not one of [`State::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown queue state {0:?}: expected one of sealed, uploading, acknowledged, purged, quarantined, refused")]
pub struct ParseStateError(pub String);

impl FromStr for State {
    type Err = ParseStateError;

    fn from_str(s: &str) -> Result<State, ParseStateError> {
        State::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| ParseStateError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::State::*;
    use super::*;

    #[test]
    fn exactly_the_documented_transitions_are_allowed() {
        let allowed = [
            (Sealed, Uploading),
            (Uploading, Sealed),
            (Uploading, Acknowledged),
            (Acknowledged, Purged),
            (Sealed, Quarantined),
            (Uploading, Quarantined),
            (Acknowledged, Quarantined),
            (Sealed, Refused),
            (Uploading, Refused),
            (Refused, Quarantined),
        ];
        for from in State::ALL {
            for to in State::ALL {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn purged_and_quarantined_are_final() {
        assert!(Purged.next_states().is_empty());
        assert!(Quarantined.next_states().is_empty());
        assert_eq!(Sealed.next_states(), vec![Uploading, Quarantined, Refused]);
        assert_eq!(Refused.next_states(), vec![Quarantined]);
    }

    #[test]
    fn names_round_trip_through_display_fromstr_and_serde() {
        for st in State::ALL {
            assert_eq!(st.to_string().parse::<State>().unwrap(), st);
            let json = serde_json::to_string(&st).unwrap();
            assert_eq!(json, format!("\"{}\"", st.as_str()));
            assert_eq!(serde_json::from_str::<State>(&json).unwrap(), st);
        }
        assert_eq!(
            "Sealed".parse::<State>().unwrap_err(),
            ParseStateError("Sealed".into())
        );
    }
}
