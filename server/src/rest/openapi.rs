//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "airdesk REST API", version = "1", description = "Automated investigation and response on email: investigations, actions, audit."),
    paths(
        super::investigations::create,
        super::investigations::get,
        super::investigations::list,
        super::actions::list,
        super::actions::export,
        super::actions::get,
        super::decisions::approve,
        super::decisions::reject,
        super::decisions::bulk,
        super::decisions::change,
        super::audit::list,
        super::policy::get,
        super::incidents::list,
        super::intel::report,
        super::intel::add_indicator,
        super::intel::list_indicators,
        super::intel::delete_indicator,
        super::intel::messages,
    ),
    modifiers(&Bearer),
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from `airdesk token create NAME --scope …`. It may do what both \
                         its user's role and its scopes allow: `read` (every GET), `ingest` \
                         (investigations, reports, indicators), `decide` (approve, reject, \
                         change; includes read), `admin` (all). A missing scope is 403; an \
                         expired or revoked token is 401.",
                    ))
                    .build(),
            ),
        );
    }
}

/// `GET /api/v1/openapi.json` (public: it describes, it reveals nothing).
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
