//! Argument types several subcommands share.

use clap::ValueEnum;
use jemput_core::imaging::signature::SignatureKind;

/// What the resident writes on the pad, as `--kind` / `--signature-kind` take it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum SignatureKindArg {
    /// The resident's usual signature.
    #[default]
    Signature,
    /// A simple line or mark from a resident who cannot sign (accepted, and flagged).
    SimpleMark,
    /// The resident's name written out instead of a signature (accepted, and flagged).
    WrittenName,
}

impl From<SignatureKindArg> for SignatureKind {
    fn from(k: SignatureKindArg) -> SignatureKind {
        match k {
            SignatureKindArg::Signature => SignatureKind::Signature,
            SignatureKindArg::SimpleMark => SignatureKind::SimpleMark,
            SignatureKindArg::WrittenName => SignatureKind::WrittenName,
        }
    }
}
