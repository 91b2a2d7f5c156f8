//! Parser tests: accepted forms and the exact errors of refused ones.

use super::*;
use crate::domain::DateTimeOffset;

fn ok(text: &str) -> Filter {
    parse(text, false).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn error(text: &str) -> (String, usize) {
    let error = parse(text, false).unwrap_err();
    (error.message, error.column)
}

fn compare(property: Property, operator: CompareOperator, value: SqlValue) -> Filter {
    Filter::Compare {
        property,
        operator,
        value,
    }
}

#[test]
fn reads_a_comparison_with_folded_text() {
    assert_eq!(
        ok("deviceDisplayName eq 'O''Brien PC'"),
        compare(
            Property::DeviceDisplayName,
            CompareOperator::Eq,
            SqlValue::Text("o'brien pc".into())
        )
    );
}

#[test]
fn enum_members_may_be_quoted_or_qualified() {
    let expected = compare(
        Property::ActionState,
        CompareOperator::Eq,
        SqlValue::Integer(4),
    );
    assert_eq!(ok("actionState eq 'done'"), expected);
    assert_eq!(
        ok("actionState eq microsoft.graph.actionState'done'"),
        expected
    );
}

#[test]
fn a_literal_on_the_left_mirrors_the_operator() {
    assert_eq!(
        ok("'pending' lt actionState"),
        compare(
            Property::ActionState,
            CompareOperator::Gt,
            SqlValue::Integer(1)
        )
    );
}

#[test]
fn date_times_with_any_offset_become_the_same_instant() {
    let utc = ok("requestDateTime ge 2026-11-01T00:00:00Z");
    let shifted = ok("requestDateTime ge 2026-11-01T09:00:00+09:00");
    assert_eq!(utc, shifted);
    let ticks = DateTimeOffset::parse("2026-11-01T00:00:00Z")
        .unwrap()
        .ticks();
    assert_eq!(
        utc,
        compare(
            Property::RequestDateTime,
            CompareOperator::Ge,
            SqlValue::Integer(ticks)
        )
    );
}

#[test]
fn and_binds_tighter_than_or() {
    let filter = ok("id eq 'a' or id eq 'b' and not (id eq 'c')");
    let Filter::Any(parts) = filter else {
        panic!("expected an 'or'")
    };
    assert_eq!(parts.len(), 2);
    assert!(matches!(&parts[1], Filter::All(and) if and.len() == 2));
}

#[test]
fn functions_and_case_wrappers() {
    assert_eq!(
        ok("startswith(tolower(deviceDisplayName), 'DESK')"),
        Filter::Text {
            function: TextFunction::StartsWith,
            property: Property::DeviceDisplayName,
            text: "desk".into()
        }
    );
    assert_eq!(
        ok("contains(toupper(userName),'x') eq false"),
        Filter::Not(Box::new(Filter::Text {
            function: TextFunction::Contains,
            property: Property::UserName,
            text: "x".into()
        }))
    );
}

#[test]
fn in_lists_and_null() {
    assert_eq!(
        ok("deviceIMEI in ('A', null)"),
        Filter::In {
            property: Property::DeviceImei,
            values: vec![SqlValue::Text("a".into()), SqlValue::Null]
        }
    );
    assert_eq!(
        ok("userName ne null"),
        compare(Property::UserName, CompareOperator::Ne, SqlValue::Null)
    );
}

#[test]
fn guids_compare_with_string_properties() {
    assert_eq!(
        ok("managedDeviceId eq DBC496CB-8E81-473E-8BEC-D7B03898D190"),
        compare(
            Property::ManagedDeviceId,
            CompareOperator::Eq,
            SqlValue::Text("dbc496cb-8e81-473e-8bec-d7b03898d190".into())
        )
    );
}

#[test]
fn members_after_the_sentinel_need_the_preference() {
    assert_eq!(
        error("action eq 'delete'"),
        (
            "'delete' of microsoft.graph.remoteAction can only be used with the request \
             header 'Prefer: include-unknown-enum-members'"
                .into(),
            11
        )
    );
    assert!(parse("action eq 'delete'", true).is_ok());
    assert_eq!(
        parse("action eq 'unknownFutureValue'", true)
            .unwrap_err()
            .message,
        "'unknownFutureValue' of microsoft.graph.remoteAction cannot be used in a filter"
    );
}

#[test]
fn refuses_unknown_names() {
    assert_eq!(
        error("devicename eq 'x'"),
        (
            "'devicename' is not a property of microsoft.graph.remoteActionAudit".into(),
            1
        )
    );
    assert_eq!(
        error("id eq 'a' and substring(id, 1) eq 'b'"),
        ("'substring' is not a supported function".into(), 15)
    );
}

#[test]
fn refuses_mismatched_types() {
    assert_eq!(
        error("requestDateTime eq 'yesterday'"),
        (
            "'requestDateTime' is an Edm.DateTimeOffset and cannot be compared with the \
             string 'yesterday'"
                .into(),
            20
        )
    );
    assert_eq!(
        error("actionState eq microsoft.graph.remoteAction'done'"),
        (
            "'actionState' is a microsoft.graph.actionState and cannot be compared with \
             the member microsoft.graph.remoteAction'done'"
                .into(),
            16
        )
    );
    assert_eq!(
        error("actionState eq 'Done'"),
        (
            "'Done' is not a member of microsoft.graph.actionState".into(),
            16
        )
    );
    assert_eq!(
        error("startswith(action, 'a')"),
        (
            "'startswith' needs a string property, but 'action' is a \
             microsoft.graph.remoteAction"
                .into(),
            12
        )
    );
    assert_eq!(
        error("userName gt null"),
        ("null can only be compared with 'eq' or 'ne'".into(), 13)
    );
}

#[test]
fn refuses_malformed_expressions() {
    assert_eq!(
        error("id eq"),
        (
            "expected a property, a function or a literal, found the end of the expression".into(),
            6
        )
    );
    assert_eq!(
        error("(id eq 'a'"),
        ("expected ')', found the end of the expression".into(), 11)
    );
    assert_eq!(
        error("id eq 'a' 'b'"),
        (
            "expected 'and', 'or' or the end of the expression, found the string 'b'".into(),
            11
        )
    );
    assert_eq!(
        error("userName"),
        (
            "expected an operator such as 'eq' after 'userName', found the end of the \
             expression"
                .into(),
            9
        )
    );
    assert_eq!(
        error("id eq userName"),
        ("the other side of a comparison must be a literal".into(), 4)
    );
    assert_eq!(
        error("id eq 'a' # x"),
        ("the character '#' is not expected here".into(), 11)
    );
}

#[test]
fn enforces_the_limits() {
    let deep = format!("{}id eq 'a'{}", "(".repeat(40), ")".repeat(40));
    assert_eq!(
        error(&deep),
        (
            format!("the expression nests more than {MAX_DEPTH} levels deep"),
            33
        )
    );

    let long = format!("id eq '{}'", "x".repeat(MAX_LENGTH));
    assert_eq!(error(&long).1, MAX_LENGTH + 1);

    let many = vec!["'a'"; MAX_IN_VALUES + 1].join(",");
    assert_eq!(
        error(&format!("id in ({many})")).0,
        format!("'in' may list at most {MAX_IN_VALUES} values")
    );
}

#[test]
fn the_message_names_the_column() {
    let error = parse("id eq 1", false).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid $filter at column 7: 'id' is an Edm.String and cannot be compared with \
         the number 1."
    );
}
