//! `$filter` expressions.

use crate::storage::sql::SqlParams;

/// A checked `$filter` expression.
#[derive(Debug, Clone)]
pub enum Filter {}

/// The SQL condition for a filter.
pub fn to_sql(filter: &Filter, _params: &mut SqlParams) -> String {
    match *filter {}
}
