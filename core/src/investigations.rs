//! Investigations: taking in a result ([`ingest`]: from outside over the API, or from airdesk's
//! own [`playbook`]) and proposing the actions its verdicts call for; reading one with its
//! evidence, and the investigations queue ([`read`]). Reports that arrive by mail come in
//! through [`intake`].

pub mod ingest;
pub mod intake;
pub mod playbook;
pub mod read;

use sha2::{Digest, Sha256};

use model::ClusterBy;

pub use ingest::{ingest, record, ClusterFinding, Findings, Members};
pub use read::{get, list, of_incident};

/// The identity of a cluster across investigations: the same campaign clustered the same way
/// gets the same key, whichever investigation found it.
pub fn cluster_key(by: ClusterBy, value: &str) -> String {
    let value = value.trim();
    let normalised = match by {
        ClusterBy::Sender
        | ClusterBy::AttachmentHash
        | ClusterBy::UrlDomain
        | ClusterBy::SenderDomain => value.to_lowercase(),
        ClusterBy::Url | ClusterBy::UrlPattern | ClusterBy::SubjectFingerprint => value.to_string(),
    };
    hex::encode(Sha256::digest(format!("{}\n{}", by.as_str(), normalised)))
}
