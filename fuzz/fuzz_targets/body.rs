//! Fuzzes the parsing of request bodies: `POST` (create) and `PATCH`
//! (update) bodies, with and without `Prefer: include-unknown-enum-members`.
//! The first byte picks the kind and the preference; the rest is the body.
//! Any panic is a crash.

use remote_action_audits::domain::{AuditInput, BodyKind};

fn check(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let kind = if selector & 1 == 0 {
        BodyKind::Create
    } else {
        BodyKind::Update
    };
    let include_unknown_enum_members = selector & 2 != 0;

    let Ok(input) = AuditInput::parse(body, kind, include_unknown_enum_members) else {
        return;
    };
    if let Ok(mut audit) = input.clone().into_new_audit() {
        input.apply_to(&mut audit);
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| check(data));
}
