//! Integration tests: the real server on port 0 with a fresh SQLite file per test.

mod adversarial;
mod adversarial_imap;
mod auth;
mod changes;
mod cli;
mod connectors;
mod contract;
mod corpus;
mod decisions;
mod dovecot;
mod events;
mod execution;
mod execution_imap;
mod hardening;
mod helpers;
mod index_imap;
mod instances;
mod intake;
mod investigations;
mod limits;
mod pigeonhole;
mod playbook;
mod policy;
mod roles;
mod storage;
mod tokens;
