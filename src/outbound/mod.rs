//! Outgoing HTTP. Every URL patchbay calls goes through [`ssrf::check_url`] first.

pub mod ssrf;
