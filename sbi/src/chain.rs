//! The hash chain that links the biometrics of one transaction (MDS specification, `previousHash`
//! and `hash`): hash = upper-case hex of SHA-256(previous hash's 32 bytes ‖ SHA-256(ISO record)),
//! the first previous hash being SHA-256 of the empty string. The byte (not hex-text)
//! concatenation is how MOSIP's compliance toolkit checks it (`HashUtil.generateHash`, docs/sbi.md).

use sha2::{Digest, Sha256};

/// Upper-case hex SHA-256 of the empty string: the `previousHash` of a transaction's first capture.
pub fn first_previous_hash() -> String {
    hex::encode_upper(Sha256::digest(b""))
}

/// The `hash` of an ISO record that follows `previous` (upper- or lower-case hex; empty means the
/// start of the chain). `None` when `previous` is not 64 hex digits.
pub fn next_hash(previous: &str, record: &[u8]) -> Option<String> {
    let prev: [u8; 32] = if previous.is_empty() {
        Sha256::digest(b"").into()
    } else {
        let bytes = hex::decode(previous).ok()?;
        bytes.try_into().ok()?
    };
    let mut h = Sha256::new();
    h.update(prev);
    h.update(Sha256::digest(record));
    Some(hex::encode_upper(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_starts_at_the_empty_strings_hash_and_links_bytes() {
        assert_eq!(
            first_previous_hash(),
            "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
        );
        // An empty previous hash and the empty string's hash start the same chain.
        assert_eq!(next_hash("", b"x"), next_hash(&first_previous_hash(), b"x"));
        // Computed by hand: SHA-256(SHA-256("") ‖ SHA-256("abc")).
        let mut both = Sha256::digest(b"").to_vec();
        both.extend(Sha256::digest(b"abc"));
        let want = hex::encode_upper(Sha256::digest(&both));
        assert_eq!(next_hash("", b"abc").unwrap(), want);
        let second = next_hash(&want, b"def").unwrap();
        assert_ne!(second, next_hash("", b"def").unwrap());
        assert_eq!(next_hash("zz", b"abc"), None);
        assert_eq!(next_hash("AB", b"abc"), None);
    }
}
