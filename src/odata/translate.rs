//! Turns a checked [`Filter`] into a parameterized SQL condition.
//!
//! Strings are compared through their folded (`_folded`) columns with
//! folded literals, so comparisons are case-insensitive on both stores.
//!
//! SQL compares null with anything as unknown, and `NOT unknown` is still
//! unknown; OData instead says `null eq 'a'` is false and `null ne 'a'` is
//! true. Every condition on a nullable column is therefore written so that
//! it is never unknown: `x IS NOT NULL AND x = ?` for `eq`, `x IS NULL OR
//! x <> ?` for `ne`. The extra `IS [NOT] NULL` term does not stop either
//! database from using an index on `x`.

use super::filter::{CompareOperator, Filter, TextFunction};
use crate::domain::Property;
use crate::storage::sql::{SqlParams, SqlValue};

/// The SQL condition for `filter`, its values pushed onto `params`.
pub fn to_sql(filter: &Filter, params: &mut SqlParams) -> String {
    match filter {
        Filter::Constant(true) => "1 = 1".to_owned(),
        Filter::Constant(false) => "1 = 0".to_owned(),
        Filter::All(parts) => join(parts, " AND ", params),
        Filter::Any(parts) => join(parts, " OR ", params),
        Filter::Not(inner) => format!("NOT ({})", to_sql(inner, params)),
        Filter::Compare {
            property,
            operator,
            value,
        } => comparison(*property, *operator, value, params),
        Filter::In { property, values } => membership(*property, values, params),
        Filter::Text {
            function,
            property,
            text,
        } => text_condition(*function, *property, text, params),
    }
}

fn join(parts: &[Filter], separator: &str, params: &mut SqlParams) -> String {
    parts
        .iter()
        .map(|part| format!("({})", to_sql(part, params)))
        .collect::<Vec<_>>()
        .join(separator)
}

/// The column a filter reads: the folded copy for strings.
fn filter_column(property: Property) -> &'static str {
    property.folded_column().unwrap_or(property.column())
}

/// `condition`, made false rather than unknown when the column is null.
fn unless_null(property: Property, condition: String) -> String {
    if property.is_nullable() {
        format!("{} IS NOT NULL AND {condition}", filter_column(property))
    } else {
        condition
    }
}

fn comparison(
    property: Property,
    operator: CompareOperator,
    value: &SqlValue,
    params: &mut SqlParams,
) -> String {
    let column = filter_column(property);
    if *value == SqlValue::Null {
        return match operator {
            CompareOperator::Ne => format!("{column} IS NOT NULL"),
            _ => format!("{column} IS NULL"),
        };
    }

    let placeholder = params.push(value.clone());
    let symbol = match operator {
        CompareOperator::Eq => "=",
        CompareOperator::Ne if property.is_nullable() => {
            return format!("{column} IS NULL OR {column} <> {placeholder}");
        }
        CompareOperator::Ne => "<>",
        CompareOperator::Gt => ">",
        CompareOperator::Ge => ">=",
        CompareOperator::Lt => "<",
        CompareOperator::Le => "<=",
    };
    unless_null(property, format!("{column} {symbol} {placeholder}"))
}

fn membership(property: Property, values: &[SqlValue], params: &mut SqlParams) -> String {
    let column = filter_column(property);
    let placeholders: Vec<String> = values
        .iter()
        .filter(|v| **v != SqlValue::Null)
        .map(|v| params.push(v.clone()))
        .collect();
    let lists_null = values.contains(&SqlValue::Null);

    let listed = (!placeholders.is_empty()).then(|| {
        unless_null(
            property,
            format!("{column} IN ({})", placeholders.join(", ")),
        )
    });
    match (listed, lists_null) {
        (Some(listed), true) => format!("({listed}) OR {column} IS NULL"),
        (Some(listed), false) => listed,
        (None, _) => format!("{column} IS NULL"),
    }
}

fn text_condition(
    function: TextFunction,
    property: Property,
    text: &str,
    params: &mut SqlParams,
) -> String {
    let column = filter_column(property);
    if text.is_empty() {
        return format!("{column} IS NOT NULL");
    }

    let condition = match function {
        TextFunction::StartsWith => prefix_range(column, text, params),
        TextFunction::EndsWith => {
            let needle = params.push(SqlValue::Text(text.to_owned()));
            let length = params.push(SqlValue::Integer(text.chars().count() as i64));
            params.dialect.ends_with(column, &needle, &length)
        }
        TextFunction::Contains => {
            let needle = params.push(SqlValue::Text(text.to_owned()));
            params.dialect.contains(column, &needle)
        }
    };
    unless_null(property, condition)
}

/// `startswith` as a range on the column, which an index answers:
/// `column >= prefix AND column < successor(prefix)`. Both stores compare
/// text bytewise, and UTF-8 byte order is code-point order, so the range
/// holds exactly the strings that start with `prefix`.
fn prefix_range(column: &str, prefix: &str, params: &mut SqlParams) -> String {
    let low = params.push(SqlValue::Text(prefix.to_owned()));
    match prefix_successor(prefix) {
        Some(high) => {
            let high = params.push(SqlValue::Text(high));
            format!("{column} >= {low} AND {column} < {high}")
        }
        None => format!("{column} >= {low}"),
    }
}

/// The smallest string greater than every string starting with `prefix`:
/// the prefix with its last character replaced by the next code point,
/// dropping trailing characters that have no successor.
fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(c as u32 + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odata::filter::parse;
    use crate::storage::sql::Dialect;

    fn sql(text: &str, dialect: Dialect) -> (String, Vec<SqlValue>) {
        let filter = parse(text, false).unwrap();
        let mut params = SqlParams::new(dialect);
        let sql = to_sql(&filter, &mut params);
        (sql, params.values)
    }

    #[test]
    fn ne_on_a_nullable_column_includes_nulls() {
        let (sql, values) = sql("deviceIMEI ne 'ABC'", Dialect::Sqlite);
        assert_eq!(
            sql,
            "device_imei_folded IS NULL OR device_imei_folded <> ?1"
        );
        assert_eq!(values, vec![SqlValue::Text("abc".into())]);
    }

    #[test]
    fn startswith_is_a_range_on_the_folded_column() {
        let (sql, values) = sql("startswith(deviceDisplayName, 'Büro')", Dialect::Postgres);
        assert_eq!(
            sql,
            "device_display_name_folded IS NOT NULL AND device_display_name_folded >= $1 \
             AND device_display_name_folded < $2"
        );
        assert_eq!(
            values,
            vec![SqlValue::Text("büro".into()), SqlValue::Text("bürp".into())]
        );
    }

    #[test]
    fn endswith_differs_by_dialect() {
        let (sqlite, _) = sql("endswith(userName,'x')", Dialect::Sqlite);
        let (postgres, _) = sql("endswith(userName,'x')", Dialect::Postgres);
        assert!(
            sqlite.ends_with("substr(user_name_folded, -(?2)) = ?1"),
            "{sqlite}"
        );
        assert!(
            postgres.ends_with("right(user_name_folded, $2) = $1"),
            "{postgres}"
        );
    }

    #[test]
    fn enums_and_times_compare_as_integers() {
        let (sql, values) = sql(
            "actionState gt 'pending' and requestDateTime lt 1970-01-01T01:00:00+01:00",
            Dialect::Sqlite,
        );
        assert_eq!(sql, "(action_state > ?1) AND (request_ticks < ?2)");
        assert_eq!(values, vec![SqlValue::Integer(1), SqlValue::Integer(0)]);
    }

    #[test]
    fn successor_skips_surrogates_and_drops_the_last_code_point() {
        assert_eq!(prefix_successor("a\u{D7FF}"), Some("a\u{E000}".into()));
        assert_eq!(prefix_successor("a\u{10FFFF}"), Some("b".into()));
        assert_eq!(prefix_successor("\u{10FFFF}"), None);
    }

    #[test]
    fn in_with_null_matches_nulls_too() {
        let (sql, _) = sql("userName in ('a', null)", Dialect::Sqlite);
        assert_eq!(
            sql,
            "(user_name_folded IS NOT NULL AND user_name_folded IN (?1)) \
             OR user_name_folded IS NULL"
        );
    }
}
