//! `GET /deviceManagement/remoteActionAudits` and its `/$count`.
//!
//! Lists are paged by the server: a page holds at most the configured page
//! size, lowered by `Prefer: odata.maxpagesize`. When more audits remain,
//! `@odata.nextLink` repeats the request's options with a signed
//! `$skiptoken` holding the keyset position of the last audit served, so a
//! page deep in a walk costs what the first one does, and a walk that
//! follows every next link sees each audit that exists throughout it exactly
//! once, whatever is inserted or deleted meanwhile.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::ENTITY_SET_PATH;
use crate::domain::{Rendering, StoredAudit};
use crate::error::ApiResult;
use crate::http::json_response;
use crate::http::prefer::Preferences;
use crate::http::service_root::ServiceRoot;
use crate::odata::query::{QueryOptions, Resource};
use crate::odata::skip_token::SkipToken;
use crate::startup::AppState;
use crate::storage::sql::ListQuery;

/// `GET /deviceManagement/remoteActionAudits`
pub async fn list(
    State(state): State<AppState>,
    root: ServiceRoot,
    preferences: Preferences,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let options = QueryOptions::parse(
        raw.as_deref(),
        Resource::Collection,
        preferences.include_unknown_enum_members,
    )?;
    let secret = state.store.instance_secret().await?;
    let query = base_query(&options);
    let token = options
        .skip_token
        .as_deref()
        .map(|text| SkipToken::verify(text, &secret, &options.fingerprint, query.order.len()))
        .transpose()?;

    let page_size = page_size(&state, preferences);
    let page = Page::read(&state, query, &options, token, page_size).await?;
    let count = match options.count {
        true => Some(state.store.count(&page.query).await?),
        false => None,
    };

    let next_link = page
        .next_token(&options)
        .map(|token| next_link(&root, &options, &token.sign(&secret)));
    let body = collection_body(&root, &options, &page.audits, count, next_link, preferences);
    let mut response = json_response(StatusCode::OK, &body);
    // The page size applied is the one used, which the configured page size
    // may have lowered.
    let applied = Preferences {
        max_page_size: preferences.max_page_size.map(|_| page_size),
        ..preferences.without_minimal()
    };
    applied.announce(&mut response);
    Ok(response)
}

/// `GET /deviceManagement/remoteActionAudits/$count`: a bare integer.
pub async fn count(
    State(state): State<AppState>,
    preferences: Preferences,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let options = QueryOptions::parse(
        raw.as_deref(),
        Resource::Count,
        preferences.include_unknown_enum_members,
    )?;
    let count = state.store.count(&base_query(&options)).await?;
    Ok((
        [("content-type", "text/plain;charset=utf-8")],
        count.to_string(),
    )
        .into_response())
}

/// The filter, search and total ordering the options ask for.
fn base_query(options: &QueryOptions) -> ListQuery {
    ListQuery {
        filter: options.filter.clone(),
        search: options.search.clone(),
        ..ListQuery::default()
    }
    .with_order(options.order.clone())
}

fn page_size(state: &AppState, preferences: Preferences) -> u64 {
    let configured = state.settings.page_size.max(1);
    preferences
        .max_page_size
        .map_or(configured, |preferred| preferred.min(configured))
}

/// One page of a walk and where the walk stands after it.
struct Page {
    query: ListQuery,
    audits: Vec<StoredAudit>,
    /// Audits served before and on this page.
    served: u64,
    more: bool,
}

impl Page {
    /// Reads the page after `token` (the first page without one). The store
    /// is asked for one audit more than the page holds, to learn whether
    /// another page follows.
    async fn read(
        state: &AppState,
        mut query: ListQuery,
        options: &QueryOptions,
        token: Option<SkipToken>,
        page_size: u64,
    ) -> ApiResult<Self> {
        let served = token.as_ref().map_or(0, |t| t.served);
        let remaining = options
            .top
            .map_or(u64::MAX, |top| top.saturating_sub(served));
        let limit = page_size.min(remaining);

        match token {
            Some(token) => query.after = Some(token.position),
            None => query.offset = options.skip.unwrap_or(0),
        }
        query.limit = limit + 1;
        let mut audits = match limit {
            0 => Vec::new(),
            _ => state.store.list(&query).await?,
        };

        // Another page follows if the store had more and `$top` wants more.
        let more = audits.len() as u64 > limit && limit < remaining;
        audits.truncate(limit as usize);
        Ok(Self {
            served: served + audits.len() as u64,
            query,
            audits,
            more,
        })
    }

    fn next_token(&self, options: &QueryOptions) -> Option<SkipToken> {
        let last = self.audits.last().filter(|_| self.more)?;
        let position = self.query.position_after(&last.audit);
        Some(SkipToken::new(self.served, position, &options.fingerprint))
    }
}

/// The request's own options, as received, plus the new skip token.
fn next_link(root: &ServiceRoot, options: &QueryOptions, token: &str) -> String {
    let mut pairs = options.raw_without_skip_token.clone();
    pairs.push(format!("$skiptoken={token}"));
    format!("{}/{ENTITY_SET_PATH}?{}", root.0, pairs.join("&"))
}

fn collection_body(
    root: &ServiceRoot,
    options: &QueryOptions,
    audits: &[StoredAudit],
    count: Option<u64>,
    next_link: Option<String>,
    preferences: Preferences,
) -> Value {
    let rendering = Rendering {
        select: options.select.as_deref(),
        include_unknown_enum_members: preferences.include_unknown_enum_members,
    };
    let value: Vec<Value> = audits
        .iter()
        .map(|stored| Value::Object(stored.audit.to_json(rendering)))
        .collect();

    let mut body = Map::new();
    let context = root.context(&options.context_fragment(ENTITY_SET_PATH));
    body.insert("@odata.context".into(), context.into());
    if let Some(count) = count {
        body.insert("@odata.count".into(), count.into());
    }
    if let Some(next_link) = next_link {
        body.insert("@odata.nextLink".into(), next_link.into());
    }
    body.insert("value".into(), Value::Array(value));
    Value::Object(body)
}
