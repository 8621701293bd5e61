//! The search page at `/`: one self-contained HTML file (styles and script inline, no
//! external asset, so it works where the service runs without internet access). It speaks
//! only the public API: `POST /api/search` and `GET /api/file`.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// The page, compiled into the binary.
pub const INDEX_HTML: &str = include_str!("../assets/index.html");

/// `GET /`.
pub async fn index() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            // Everything the page needs is inline: forbid the rest.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
                ),
            ),
        ],
        INDEX_HTML,
    )
        .into_response()
}
