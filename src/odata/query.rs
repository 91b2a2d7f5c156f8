//! The query options of a request, read from its raw query string.
//!
//! # Format
//!
//! ```text
//! query   = option *( "&" option )
//! option  = [ "$" ] name "=" value          ; the "$" is optional on beta
//! name    = "filter" / "select" / "orderby" / "top" / "skip" / "count"
//!         / "search" / "skiptoken" / "expand"
//! select  = "*" / property *( "," property )
//! orderby = property [ SP ( "asc" / "desc" ) ] *( "," ... )
//! top     = 1*DIGIT                          ; also skip
//! count   = "true" / "false"
//! search  = DQUOTE term DQUOTE                ; or the bare term
//! ```
//!
//! Names and values are decoded as Graph decodes them: `+` is a space and
//! `%XX` a byte, so the plus of an offset such as `+02:00` must be sent as
//! `%2B` (the Graph SDKs encode every reserved character). An unknown option, an option given
//! twice (with or without `$`), or one the resource does not support is
//! refused with 400, as is `$expand`: audits have no navigation properties.

use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};

use super::filter::{self, Filter};
use crate::domain::Property;
use crate::error::ApiError;
use crate::storage::sql::OrderKey;

/// The query options OData defines and this service knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OptionName {
    Filter,
    Select,
    OrderBy,
    Top,
    Skip,
    Count,
    Search,
    SkipToken,
    Expand,
}

impl OptionName {
    const ALL: [OptionName; 9] = [
        OptionName::Filter,
        OptionName::Select,
        OptionName::OrderBy,
        OptionName::Top,
        OptionName::Skip,
        OptionName::Count,
        OptionName::Search,
        OptionName::SkipToken,
        OptionName::Expand,
    ];

    /// The name with its `$`, as documents and error messages write it.
    pub fn as_str(self) -> &'static str {
        match self {
            OptionName::Filter => "$filter",
            OptionName::Select => "$select",
            OptionName::OrderBy => "$orderby",
            OptionName::Top => "$top",
            OptionName::Skip => "$skip",
            OptionName::Count => "$count",
            OptionName::Search => "$search",
            OptionName::SkipToken => "$skiptoken",
            OptionName::Expand => "$expand",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        let bare = name.strip_prefix('$').unwrap_or(name);
        Self::ALL.into_iter().find(|o| &o.as_str()[1..] == bare)
    }
}

/// What a request addresses, which decides the options it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// The entity set: every option.
    Collection,
    /// One audit: `$select` (and `$expand`, refused on its own terms).
    Entity,
    /// The collection's `/$count`: `$filter` and `$search`.
    Count,
}

impl Resource {
    fn allows(self, option: OptionName) -> bool {
        match self {
            Resource::Collection => true,
            Resource::Entity => matches!(option, OptionName::Select | OptionName::Expand),
            Resource::Count => matches!(option, OptionName::Filter | OptionName::Search),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Resource::Collection => "the remoteActionAudits collection",
            Resource::Entity => "a single remoteActionAudit",
            Resource::Count => "/$count",
        }
    }
}

/// The checked query options of one request.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    pub filter: Option<Filter>,
    /// `$select`, in the order given; `None` for every property.
    pub select: Option<Vec<Property>>,
    /// `$orderby` keys, without the `id` tie-breaker.
    pub order: Vec<OrderKey>,
    pub top: Option<u64>,
    pub skip: Option<u64>,
    pub count: bool,
    /// The `$search` term, quotes removed.
    pub search: Option<String>,
    /// The `$skiptoken` as received.
    pub skip_token: Option<String>,
    /// Every option but `$skiptoken`, as received, for next links.
    pub raw_without_skip_token: Vec<String>,
    /// A hash of every option but `$skiptoken`, after decoding, that a skip
    /// token is bound to.
    pub fingerprint: [u8; 32],
}

impl QueryOptions {
    /// Reads the options of a request for `resource`.
    pub fn parse(
        raw: Option<&str>,
        resource: Resource,
        include_unknown_enum_members: bool,
    ) -> Result<Self, ApiError> {
        let mut decoded = decode_pairs(raw.unwrap_or_default(), resource)?;
        decoded.sort_by_key(|(name, _, _)| *name);

        let mut options = QueryOptions::default();
        let mut hasher = Sha256::new();
        for (name, value, raw_pair) in decoded {
            if name != OptionName::SkipToken {
                hasher.update(name.as_str());
                hasher.update([0]);
                hasher.update(&value);
                hasher.update([0]);
                options.raw_without_skip_token.push(raw_pair);
            }
            options.apply(name, value, include_unknown_enum_members)?;
        }
        options.fingerprint = hasher.finalize().into();
        Ok(options)
    }

    fn apply(
        &mut self,
        name: OptionName,
        value: String,
        include_unknown_enum_members: bool,
    ) -> Result<(), ApiError> {
        match name {
            OptionName::Filter => {
                self.filter = Some(filter::parse(&value, include_unknown_enum_members)?);
            }
            OptionName::Select => self.select = parse_select(&value)?,
            OptionName::OrderBy => self.order = parse_order_by(&value)?,
            OptionName::Top => self.top = Some(parse_count(name, &value)?),
            OptionName::Skip => self.skip = Some(parse_count(name, &value)?),
            OptionName::Count => self.count = parse_bool(&value)?,
            OptionName::Search => self.search = Some(parse_search(&value)?),
            OptionName::SkipToken => self.skip_token = Some(value),
            OptionName::Expand => return Err(no_navigation_properties(&value)),
        }
        Ok(())
    }

    /// The `@odata.context` fragment for the entity set, showing `$select`:
    /// `deviceManagement/remoteActionAudits(id,action)`.
    pub fn context_fragment(&self, entity_set: &str) -> String {
        match &self.select {
            Some(properties) => {
                let names: Vec<&str> = properties.iter().map(|p| p.name()).collect();
                format!("{entity_set}({})", names.join(","))
            }
            None => entity_set.to_owned(),
        }
    }
}

/// Splits and decodes the query string into `(option, value, raw pair)`,
/// refusing unknown, repeated and unsupported options.
fn decode_pairs(
    raw: &str,
    resource: Resource,
) -> Result<Vec<(OptionName, String, String)>, ApiError> {
    let mut pairs: Vec<(OptionName, String, String)> = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(raw_name)?;
        let Some(option) = OptionName::from_name(&name) else {
            return Err(ApiError::BadRequest(format!(
                "The query option '{name}' is not supported."
            )));
        };

        if !resource.allows(option) {
            return Err(ApiError::BadRequest(format!(
                "The query option '{}' is not supported on {}.",
                option.as_str(),
                resource.describe()
            )));
        }
        if pairs.iter().any(|(seen, _, _)| *seen == option) {
            return Err(ApiError::BadRequest(format!(
                "The query option '{}' was specified more than once, but it can be \
                 specified at most once.",
                option.as_str()
            )));
        }
        pairs.push((option, decode(raw_value)?, pair.to_owned()));
    }
    Ok(pairs)
}

/// Decodes a query name or value the way Graph's front end does: `+` is a
/// space (as HTML forms, `curl --data-urlencode` and Python's `requests`
/// send it), and a literal plus must be sent as `%2B`.
fn decode(text: &str) -> Result<String, ApiError> {
    let text = text.replace('+', " ");
    percent_decode_str(&text)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| {
            ApiError::BadRequest("A query option is not valid UTF-8 once percent-decoded.".into())
        })
}

fn property(name: &str, option: OptionName) -> Result<Property, ApiError> {
    Property::from_name(name).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "Could not find a property named '{name}' on type \
             'microsoft.graph.remoteActionAudit' (in {}).",
            option.as_str()
        ))
    })
}

fn parse_select(value: &str) -> Result<Option<Vec<Property>>, ApiError> {
    let mut properties = Vec::new();
    for item in value.split(',').map(str::trim) {
        if item == "*" {
            return Ok(None);
        }
        let property = property(item, OptionName::Select)?;
        if !properties.contains(&property) {
            properties.push(property);
        }
    }
    Ok(Some(properties))
}

fn parse_order_by(value: &str) -> Result<Vec<OrderKey>, ApiError> {
    let mut keys: Vec<OrderKey> = Vec::new();
    for item in value.split(',') {
        let mut words = item.split_whitespace();
        let name = words.next().unwrap_or_default();
        let property = property(name, OptionName::OrderBy)?;
        let descending = match (words.next(), words.next()) {
            (None, _) | (Some("asc"), None) => false,
            (Some("desc"), None) => true,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "'{}' is not a valid $orderby item: write a property, optionally \
                     followed by 'asc' or 'desc'.",
                    item.trim()
                )));
            }
        };
        if keys.iter().any(|k| k.property == property) {
            return Err(ApiError::BadRequest(format!(
                "The property '{name}' appears more than once in $orderby."
            )));
        }
        keys.push(OrderKey {
            property,
            descending,
        });
    }
    Ok(keys)
}

fn parse_count(option: OptionName, value: &str) -> Result<u64, ApiError> {
    value
        .parse::<u64>()
        .ok()
        .filter(|n| i64::try_from(*n).is_ok())
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Invalid value '{value}' for {}: expected a non-negative integer.",
                option.as_str()
            ))
        })
}

fn parse_bool(value: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(ApiError::BadRequest(format!(
            "Invalid value '{other}' for $count: expected 'true' or 'false'."
        ))),
    }
}

fn parse_search(value: &str) -> Result<String, ApiError> {
    let term = match value.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"').ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Invalid $search '{value}': the quoted term has no closing '\"'."
            ))
        })?,
        None => value,
    };
    if term.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "Invalid $search: the search term is empty.".into(),
        ));
    }
    Ok(term.to_owned())
}

fn no_navigation_properties(value: &str) -> ApiError {
    let first = value.split([',', '(']).next().unwrap_or_default().trim();
    ApiError::BadRequest(format!(
        "Property '{first}' on type 'microsoft.graph.remoteActionAudit' is not a navigation \
         property; remoteActionAudit has no navigation properties to expand."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<QueryOptions, String> {
        QueryOptions::parse(Some(raw), Resource::Collection, false).map_err(|e| e.to_string())
    }

    #[test]
    fn the_dollar_is_optional_and_values_are_decoded() {
        let with = parse("$filter=id%20eq%20'a'&$top=5").unwrap();
        let without = parse("filter=id%20eq%20'a'&top=5").unwrap();
        assert_eq!(with.filter, without.filter);
        assert_eq!(with.top, Some(5));
        assert_eq!(with.fingerprint, without.fingerprint);
    }

    #[test]
    fn refuses_repeated_and_unknown_options() {
        assert_eq!(
            parse("$top=1&top=2").unwrap_err(),
            "The query option '$top' was specified more than once, but it can be specified \
             at most once."
        );
        assert_eq!(
            parse("$format=json").unwrap_err(),
            "The query option '$format' is not supported."
        );
    }

    #[test]
    fn a_single_audit_only_takes_select() {
        let error = QueryOptions::parse(Some("$filter=x"), Resource::Entity, false).unwrap_err();
        assert_eq!(
            error.to_string(),
            "The query option '$filter' is not supported on a single remoteActionAudit."
        );
    }

    #[test]
    fn reads_select_orderby_and_search() {
        let options =
            parse("$select=id,action&$orderby=requestDateTime%20desc,id&$search=%22PC%201%22")
                .unwrap();
        assert_eq!(options.select, Some(vec![Property::Id, Property::Action]));
        assert_eq!(options.context_fragment("x"), "x(id,action)".to_owned());
        assert!(options.order[0].descending);
        assert_eq!(options.search.as_deref(), Some("PC 1"));
    }

    #[test]
    fn plus_is_a_space_and_an_encoded_plus_a_plus() {
        let options = parse("$search=%22a+b%2Bc%22").unwrap();
        assert_eq!(options.search.as_deref(), Some("a b+c"));
    }

    #[test]
    fn refuses_bad_values() {
        assert!(parse("$select=nope").unwrap_err().contains("'nope'"));
        assert!(
            parse("$orderby=id%20up")
                .unwrap_err()
                .contains("not a valid $orderby")
        );
        assert!(parse("$top=-1").unwrap_err().contains("non-negative"));
        assert!(parse("$count=yes").unwrap_err().contains("'yes'"));
        assert!(parse("$search=%22open").unwrap_err().contains("closing"));
        assert!(parse("$expand=device").unwrap_err().contains("navigation"));
    }
}
