//! A session's Icecast outputs, for its owner: `GET /api/sessions/{fp}/outputs` (each one's
//! address without the password, state, last error, bytes sent, reconnects, connected since),
//! `POST` with `{"url": "icecast://source:PASSWORD@HOST:PORT/MOUNT"}` (201; 400 with the reason
//! for a bad address) and `DELETE …/outputs/{id}`. Outputs added here live as long as the server.
use super::api::owned;
use super::error::ApiError;
use super::App;
use crate::output::IcecastUrl;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// Outputs one session may have at once (each is a connection and a task).
const MAX_PER_SESSION: usize = 8;

pub async fn list(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let h = owned(&app, &fp, &headers).await?;
    Ok(Json(
        json!({ "outputs": app.outputs.of_session(h.fingerprint()) }),
    ))
}

#[derive(Deserialize)]
struct AddBody {
    url: String,
}

/// The output's address from the body, for the session `fp` (an address naming another
/// session is refused; one naming none is given this one).
pub fn parse_body(body: &[u8], fp: &str) -> Result<IcecastUrl, ApiError> {
    // serde's message could quote the body, password and all: say what is expected instead.
    let b: AddBody = serde_json::from_slice(body).map_err(|_| {
        ApiError::bad_request(
            "the body must be JSON like {\"url\": \"icecast://source:PASSWORD@HOST:PORT/MOUNT\"}",
        )
    })?;
    let mut url = IcecastUrl::parse(&b.url).map_err(|e| ApiError::bad_request(e.to_string()))?;
    match url.session.as_deref() {
        None => url.session = Some(fp.to_string()),
        Some(s) if s == fp => {}
        Some(s) => {
            return Err(ApiError::bad_request(format!(
                "the address names session '{s}', not this one"
            )))
        }
    }
    Ok(url)
}

pub async fn add(
    State(app): State<App>,
    Path(fp): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let h = owned(&app, &fp, &headers).await?;
    let url = parse_body(&body, h.fingerprint())?;
    if app.outputs.of_session(h.fingerprint()).len() >= MAX_PER_SESSION {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "too_many_outputs",
            format!("a session has at most {MAX_PER_SESSION} outputs: remove one first"),
        ));
    }
    let view = app.outputs.add(url);
    Ok((StatusCode::CREATED, Json(json!(view))).into_response())
}

pub async fn remove(
    State(app): State<App>,
    Path((fp, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let h = owned(&app, &fp, &headers).await?;
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::not_found("no such output"))?;
    if app.outputs.remove(h.fingerprint(), id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no such output"))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_body;

    #[test]
    fn the_body_gives_an_address_for_this_session_or_a_clear_400() {
        let u = parse_body(br#"{"url": "icecast://source:pw@h:8000/m"}"#, "fp1").unwrap();
        assert_eq!(u.session.as_deref(), Some("fp1"));
        let u = parse_body(br#"{"url": "icecast://source:pw@h/m?session=fp1"}"#, "fp1").unwrap();
        assert_eq!(u.port, 8000);
        for (body, says) in [
            (
                &br#"{"url": "icecast://source:pw@h/m?session=other"}"#[..],
                "names session",
            ),
            (br#"{"url": "http://h/m"}"#, "icecast://"),
            (br#"{"url": 5}"#, "must be JSON"),
            (b"not json", "must be JSON"),
            (br#"{"uri": "icecast://source:secret@h/m"}"#, "must be JSON"),
        ] {
            let e = parse_body(body, "fp1").unwrap_err();
            assert_eq!(e.status, 400);
            assert!(e.message.contains(says), "{}", e.message);
            assert!(!e.message.contains("secret"));
        }
    }
}
