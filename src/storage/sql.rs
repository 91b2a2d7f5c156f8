//! SQL shared by both stores: the table's columns, parameters, and the
//! assembly of list and count queries.
//!
//! Values never enter SQL text: every literal becomes a placeholder, written
//! `?N` for SQLite and `$N` for PostgreSQL. Apart from placeholders and a
//! few string functions, both stores run the same statements.

use crate::domain::{Property, PropertyValue, RemoteActionAudit, fold_case};
use crate::odata::filter::Filter;

/// Which SQL dialect a statement is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The placeholder for the `index`-th parameter, counting from 1.
    pub fn placeholder(self, index: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{index}"),
            Dialect::Postgres => format!("${index}"),
        }
    }

    /// A condition that `needle` occurs in `haystack` (both SQL operands).
    pub fn contains(self, haystack: &str, needle: &str) -> String {
        match self {
            Dialect::Sqlite => format!("instr({haystack}, {needle}) > 0"),
            Dialect::Postgres => format!("strpos({haystack}, {needle}) > 0"),
        }
    }

    /// A condition that `haystack` ends with `needle`, which is `length`
    /// characters long (all three SQL operands).
    pub fn ends_with(self, haystack: &str, needle: &str, length: &str) -> String {
        match self {
            Dialect::Sqlite => format!("substr({haystack}, -({length})) = {needle}"),
            Dialect::Postgres => format!("right({haystack}, {length}) = {needle}"),
        }
    }
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Text(String),
}

/// Parameters collected while a statement is written.
#[derive(Debug)]
pub struct SqlParams {
    pub dialect: Dialect,
    pub values: Vec<SqlValue>,
}

impl SqlParams {
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            values: Vec::new(),
        }
    }

    /// Adds a parameter and returns its placeholder.
    pub fn push(&mut self, value: SqlValue) -> String {
        self.values.push(value);
        self.dialect.placeholder(self.values.len())
    }
}

/// The columns every query reads, in the order stores decode them.
pub const AUDIT_COLUMNS: &str = "id, device_display_name, user_name, initiated_by_upn, action, \
     request_ticks, device_owner_upn, device_imei, action_state, managed_device_id, \
     bulk_device_action_id, device_action_category, version";

/// One key of the ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderKey {
    pub property: Property,
    pub descending: bool,
}

impl OrderKey {
    /// The column the key sorts on: the case-folded copy for strings, so
    /// that ordering is case-insensitive like comparisons; `id` itself as
    /// stored, so that it stays a total tie-breaker.
    pub fn column(self) -> &'static str {
        match self.property {
            Property::Id => "id",
            property => property.folded_column().unwrap_or(property.column()),
        }
    }

    /// This key's value in `audit`, as the sort column holds it.
    pub fn value_of(self, audit: &RemoteActionAudit) -> SqlValue {
        match audit.value(self.property) {
            PropertyValue::Null => SqlValue::Null,
            PropertyValue::String(text) if self.property == Property::Id => {
                SqlValue::Text(text.to_owned())
            }
            PropertyValue::String(text) => SqlValue::Text(fold_case(text)),
            PropertyValue::Enum(_, value) => SqlValue::Integer(value),
            PropertyValue::DateTimeOffset(instant) => SqlValue::Integer(instant.ticks()),
        }
    }
}

/// What a list or count reads.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// A `$search` term, matched case-insensitively as a substring.
    pub search: Option<String>,
    /// The ordering, always ending with `id` so that it is total.
    pub order: Vec<OrderKey>,
    /// The keyset position: the sort values of the last row already served.
    pub after: Option<Vec<SqlValue>>,
    pub offset: u64,
    pub limit: u64,
}

impl ListQuery {
    /// Makes the ordering total by appending `id` unless it is there. The
    /// tie-breaker runs in the direction of the last key, so that one index
    /// such as `(request_ticks, id)`, read backwards, answers `desc` too.
    pub fn with_order(mut self, keys: Vec<OrderKey>) -> Self {
        self.order = keys;
        if !self.order.iter().any(|k| k.property == Property::Id) {
            let descending = self.order.last().is_some_and(|k| k.descending);
            self.order.push(OrderKey {
                property: Property::Id,
                descending,
            });
        }
        self
    }

    /// The position after `audit`, for the next page's skip token.
    pub fn position_after(&self, audit: &RemoteActionAudit) -> Vec<SqlValue> {
        self.order.iter().map(|key| key.value_of(audit)).collect()
    }
}

/// The properties `$search` looks in.
pub const SEARCHED_PROPERTIES: [Property; 5] = [
    Property::DeviceDisplayName,
    Property::UserName,
    Property::InitiatedByUserPrincipalName,
    Property::DeviceOwnerUserPrincipalName,
    Property::DeviceImei,
];

/// `SELECT ... WHERE ... ORDER BY ... LIMIT ... OFFSET ...` for one page.
pub fn select_page(query: &ListQuery, dialect: Dialect) -> (String, Vec<SqlValue>) {
    let mut params = SqlParams::new(dialect);
    let mut conditions = match_conditions(query, &mut params);
    if let Some(after) = &query.after {
        conditions.push(keyset_condition(&query.order, after, &mut params));
    }

    let order = query
        .order
        .iter()
        .map(|key| order_term(*key))
        .collect::<Vec<_>>()
        .join(", ");
    let limit = params.push(SqlValue::Integer(query.limit as i64));
    let offset = params.push(SqlValue::Integer(query.offset as i64));

    let sql = format!(
        "SELECT {AUDIT_COLUMNS} FROM audits{} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
        where_clause(&conditions)
    );
    (sql, params.values)
}

/// `SELECT count(*) ...` over the query's filter and search.
pub fn select_count(query: &ListQuery, dialect: Dialect) -> (String, Vec<SqlValue>) {
    let mut params = SqlParams::new(dialect);
    let conditions = match_conditions(query, &mut params);
    let sql = format!("SELECT count(*) FROM audits{}", where_clause(&conditions));
    (sql, params.values)
}

fn match_conditions(query: &ListQuery, params: &mut SqlParams) -> Vec<String> {
    let mut conditions = Vec::new();
    if let Some(filter) = &query.filter {
        conditions.push(crate::odata::filter::to_sql(filter, params));
    }
    if let Some(term) = &query.search {
        conditions.push(search_condition(term, params));
    }
    conditions
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        return String::new();
    }
    let joined = conditions
        .iter()
        .map(|c| format!("({c})"))
        .collect::<Vec<_>>()
        .join(" AND ");
    format!(" WHERE {joined}")
}

fn search_condition(term: &str, params: &mut SqlParams) -> String {
    let needle = params.push(SqlValue::Text(fold_case(term)));
    SEARCHED_PROPERTIES
        .iter()
        .filter_map(|property| property.folded_column())
        .map(|column| params.dialect.contains(column, &needle))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// Nulls sort first ascending and last descending on both stores (the
/// SQLite default, spelled out for PostgreSQL). Non-nullable keys leave the
/// clause out so that PostgreSQL can use plain indexes.
fn order_term(key: OrderKey) -> String {
    let direction = if key.descending { "DESC" } else { "ASC" };
    let nulls = match (key.property.is_nullable(), key.descending) {
        (false, _) => "",
        (true, false) => " NULLS FIRST",
        (true, true) => " NULLS LAST",
    };
    format!("{} {direction}{nulls}", key.column())
}

/// The rows strictly after `position` in the ordering `keys`.
///
/// When every key is non-nullable and sorts the same way, this is one row
/// comparison, `(a, b, id) > (?, ?, ?)`, which both databases answer from an
/// index. Otherwise it is the expanded form: for some key `i`, every earlier
/// key equals its value and key `i` is strictly after it.
fn keyset_condition(keys: &[OrderKey], position: &[SqlValue], params: &mut SqlParams) -> String {
    let uniform = keys.iter().all(|k| k.descending == keys[0].descending)
        && keys.iter().all(|k| !k.property.is_nullable())
        && position.iter().all(|v| *v != SqlValue::Null);
    if uniform {
        let columns = keys
            .iter()
            .map(|k| k.column())
            .collect::<Vec<_>>()
            .join(", ");
        let values = position
            .iter()
            .map(|v| params.push(v.clone()))
            .collect::<Vec<_>>()
            .join(", ");
        let operator = if keys[0].descending { "<" } else { ">" };
        return format!("({columns}) {operator} ({values})");
    }

    let mut alternatives = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let mut terms: Vec<String> = keys[..i]
            .iter()
            .zip(position)
            .map(|(earlier, value)| equal_term(*earlier, value, params))
            .collect();
        terms.push(after_term(*key, &position[i], params));
        alternatives.push(format!("({})", terms.join(" AND ")));
    }
    alternatives.join(" OR ")
}

fn equal_term(key: OrderKey, value: &SqlValue, params: &mut SqlParams) -> String {
    match value {
        SqlValue::Null => format!("{} IS NULL", key.column()),
        value => format!("{} = {}", key.column(), params.push(value.clone())),
    }
}

/// Strictly after `value` for one key, with nulls as the smallest values.
fn after_term(key: OrderKey, value: &SqlValue, params: &mut SqlParams) -> String {
    let column = key.column();
    match (value, key.descending) {
        (SqlValue::Null, false) => format!("{column} IS NOT NULL"),
        (SqlValue::Null, true) => "1 = 0".to_owned(),
        (value, false) => format!("{column} > {}", params.push(value.clone())),
        (value, true) => {
            let placeholder = params.push(value.clone());
            format!("({column} < {placeholder} OR {column} IS NULL)")
        }
    }
}

/// The columns an insert or a full update writes, folded copies included.
pub const WRITE_COLUMNS: [&str; 20] = [
    "id",
    "id_folded",
    "device_display_name",
    "device_display_name_folded",
    "user_name",
    "user_name_folded",
    "initiated_by_upn",
    "initiated_by_upn_folded",
    "action",
    "request_ticks",
    "device_owner_upn",
    "device_owner_upn_folded",
    "device_imei",
    "device_imei_folded",
    "action_state",
    "managed_device_id",
    "managed_device_id_folded",
    "bulk_device_action_id",
    "bulk_device_action_id_folded",
    "device_action_category",
];

/// The values of [`WRITE_COLUMNS`] for `audit`.
pub fn write_values(audit: &RemoteActionAudit) -> Vec<SqlValue> {
    let text = |value: &str| SqlValue::Text(value.to_owned());
    let optional = |value: &Option<String>| value.as_deref().map_or(SqlValue::Null, text);
    let folded = |value: &Option<String>| {
        value
            .as_deref()
            .map_or(SqlValue::Null, |v| SqlValue::Text(fold_case(v)))
    };

    vec![
        text(&audit.id),
        SqlValue::Text(fold_case(&audit.id)),
        optional(&audit.device_display_name),
        folded(&audit.device_display_name),
        optional(&audit.user_name),
        folded(&audit.user_name),
        optional(&audit.initiated_by_user_principal_name),
        folded(&audit.initiated_by_user_principal_name),
        SqlValue::Integer(audit.action),
        SqlValue::Integer(audit.request_date_time.ticks()),
        optional(&audit.device_owner_user_principal_name),
        folded(&audit.device_owner_user_principal_name),
        optional(&audit.device_imei),
        folded(&audit.device_imei),
        SqlValue::Integer(audit.action_state),
        optional(&audit.managed_device_id),
        folded(&audit.managed_device_id),
        optional(&audit.bulk_device_action_id),
        folded(&audit.bulk_device_action_id),
        SqlValue::Integer(audit.device_action_category),
    ]
}

/// `INSERT INTO audits (...) VALUES (...)` with the version and change
/// sequence as the last two parameters.
pub fn insert_statement(dialect: Dialect) -> String {
    let columns = WRITE_COLUMNS.join(", ");
    let placeholders = (1..=WRITE_COLUMNS.len() + 2)
        .map(|i| dialect.placeholder(i))
        .collect::<Vec<_>>()
        .join(", ");
    format!("INSERT INTO audits ({columns}, version, change_seq) VALUES ({placeholders})")
}

/// `UPDATE audits SET ... WHERE id = ...` writing every column but the id;
/// parameters are [`write_values`], then version, change sequence and id.
pub fn update_statement(dialect: Dialect) -> String {
    let assignments = WRITE_COLUMNS
        .iter()
        .enumerate()
        .skip(2)
        .map(|(i, column)| format!("{column} = {}", dialect.placeholder(i + 1)))
        .collect::<Vec<_>>()
        .join(", ");
    let n = WRITE_COLUMNS.len();
    format!(
        "UPDATE audits SET {assignments}, version = {}, change_seq = {} WHERE id = {}",
        dialect.placeholder(n + 1),
        dialect.placeholder(n + 2),
        dialect.placeholder(n + 3),
    )
}

/// Rebuilds an audit from the text and integer cells of [`AUDIT_COLUMNS`].
pub struct AuditRow {
    pub id: String,
    pub device_display_name: Option<String>,
    pub user_name: Option<String>,
    pub initiated_by_upn: Option<String>,
    pub action: i64,
    pub request_ticks: i64,
    pub device_owner_upn: Option<String>,
    pub device_imei: Option<String>,
    pub action_state: i64,
    pub managed_device_id: Option<String>,
    pub bulk_device_action_id: Option<String>,
    pub device_action_category: i64,
    pub version: i64,
}

impl AuditRow {
    /// Checks the stored values, refusing any that no valid write could
    /// have produced.
    pub fn into_stored(self) -> anyhow::Result<crate::domain::StoredAudit> {
        use crate::domain::enums::{ACTION_STATE, DEVICE_ACTION_CATEGORY, REMOTE_ACTION};

        let enums_valid = REMOTE_ACTION.contains_value(self.action)
            && ACTION_STATE.contains_value(self.action_state)
            && DEVICE_ACTION_CATEGORY.contains_value(self.device_action_category);
        let instant = crate::domain::DateTimeOffset::from_ticks(self.request_ticks);
        let (true, Some(request_date_time)) = (enums_valid, instant) else {
            anyhow::bail!(
                "the stored audit '{}' holds values outside its types",
                self.id
            );
        };

        let audit = RemoteActionAudit {
            id: self.id,
            device_display_name: self.device_display_name,
            user_name: self.user_name,
            initiated_by_user_principal_name: self.initiated_by_upn,
            action: self.action,
            request_date_time,
            device_owner_user_principal_name: self.device_owner_upn,
            device_imei: self.device_imei,
            action_state: self.action_state,
            managed_device_id: self.managed_device_id,
            bulk_device_action_id: self.bulk_device_action_id,
            device_action_category: self.device_action_category,
        };
        Ok(crate::domain::StoredAudit {
            audit,
            version: self.version,
        })
    }
}
