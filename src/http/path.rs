//! Graph matches the segments of a resource path without regard to case
//! (`/DeviceManagement/RemoteActionAudits` works as well as the documented
//! spelling). Routing here is exact, so the path is rewritten to the
//! canonical spelling before it is routed. Keys are left as they are.

use axum::extract::Request;
use axum::http::Uri;

/// The fixed segments of the paths this service answers, in order.
const SEGMENTS: [&str; 2] = ["deviceManagement", "remoteActionAudits"];

/// Rewrites the request's path to the canonical spelling of its segments.
pub async fn canonical_path(mut request: Request) -> Request {
    if let Some(uri) = canonical_uri(request.uri()) {
        *request.uri_mut() = uri;
    }
    request
}

fn canonical_uri(uri: &Uri) -> Option<Uri> {
    let path = canonical(uri.path())?;
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

/// The canonical spelling of `path`, when it differs.
fn canonical(path: &str) -> Option<String> {
    let mut segments: Vec<String> = path.split('/').map(str::to_owned).collect();
    let mut position = 1;
    if segments
        .get(position)
        .is_some_and(|s| s.eq_ignore_ascii_case("beta"))
    {
        segments[position] = "beta".into();
        position += 1;
    }

    for expected in SEGMENTS {
        match segments.get_mut(position) {
            Some(segment) if segment.eq_ignore_ascii_case(expected) => {
                *segment = expected.to_owned();
                position += 1;
            }
            _ => break,
        }
    }
    if position >= 3
        && segments
            .get(position)
            .is_some_and(|s| s.eq_ignore_ascii_case("$count"))
    {
        segments[position] = "$count".into();
    }

    let rewritten = segments.join("/");
    (rewritten != path).then_some(rewritten)
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn fixes_the_case_of_known_segments_only() {
        assert_eq!(
            canonical("/BETA/devicemanagement/REMOTEACTIONAUDITS/AbC").as_deref(),
            Some("/beta/deviceManagement/remoteActionAudits/AbC")
        );
        assert_eq!(
            canonical("/DeviceManagement/remoteActionAudits/$COUNT").as_deref(),
            Some("/deviceManagement/remoteActionAudits/$count")
        );
        assert_eq!(canonical("/beta/deviceManagement/remoteActionAudits"), None);
        assert_eq!(canonical("/beta/users"), None);
    }
}
