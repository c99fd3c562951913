//! LoopBack's REST API, over real HTTP on 127.0.0.1: every endpoint and status code, bad
//! JSON, bad filters and unknown ids, on every backend.

use habtm::rest::Api;
use habtm::sqlx::Pool;
use habtm::{Backend, Model, Schema};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Model)]
#[model(plural = "Assemblies")]
#[relation(has_and_belongs_to_many, model = "Part")]
pub struct Assembly {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Assembly")]
pub struct Part {
    pub id: i64,
    pub part_number: String,
    pub weight: Option<f64>,
}

/// A server for `pool` on an ephemeral port; its base URL.
async fn serve<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<String> {
    Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .create_all(pool)
        .await?;
    let app = Api::new(pool.clone())
        .model::<Assembly>()
        .model::<Part>()
        .relation(Assembly::PARTS)
        .relation(Part::ASSEMBLIES)
        .body_limit(4096)
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{address}"))
}

/// One request: the status and the JSON body (`null` when there is none).
async fn call(
    client: &Client,
    method: Method,
    url: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let text = response.text().await.expect("a body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

fn encode(filter: &str) -> String {
    filter
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn model_endpoints<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    let base = serve(pool).await?;
    let http = Client::new();
    let url = |path: &str| format!("{base}{path}");

    let (status, engine) = call(
        &http,
        Method::POST,
        &url("/Assemblies"),
        Some(r#"{"name": "engine"}"#),
    )
    .await;
    assert_eq!(
        (status, &engine["name"]),
        (StatusCode::OK, &json!("engine"))
    );
    let id = engine["id"].as_i64().expect("an id");
    let (status, many) = call(
        &http,
        Method::POST,
        &url("/Assemblies"),
        Some(r#"[{"name": "pump"}, {"name": "valve"}]"#),
    )
    .await;
    assert_eq!(
        (status, many.as_array().map(Vec::len)),
        (StatusCode::OK, Some(2))
    );

    let filter = encode(r#"{"where": {"name": {"like": "p%"}}, "order": "name DESC"}"#);
    let (status, found) = call(
        &http,
        Method::GET,
        &url(&format!("/Assemblies?filter={filter}")),
        None,
    )
    .await;
    assert_eq!(
        (status, found[0]["name"].as_str()),
        (StatusCode::OK, Some("pump"))
    );
    let (_, count) = call(
        &http,
        Method::GET,
        &url(&format!(
            "/Assemblies/count?where={}",
            encode(r#"{"name": "engine"}"#)
        )),
        None,
    )
    .await;
    assert_eq!(count, json!({"count": 1}));
    let (status, one) = call(&http, Method::GET, &url(&format!("/Assemblies/{id}")), None).await;
    assert_eq!(
        (status, one),
        (StatusCode::OK, json!({"id": id, "name": "engine"}))
    );
    let (_, exists) = call(
        &http,
        Method::GET,
        &url(&format!("/Assemblies/{id}/exists")),
        None,
    )
    .await;
    assert_eq!(exists, json!({"exists": true}));
    let (_, exists) = call(&http, Method::GET, &url("/Assemblies/999/exists"), None).await;
    assert_eq!(exists, json!({"exists": false}));

    let (status, replaced) = call(
        &http,
        Method::PUT,
        &url(&format!("/Assemblies/{id}")),
        Some(r#"{"name": "motor"}"#),
    )
    .await;
    assert_eq!(
        (status, replaced),
        (StatusCode::OK, json!({"id": id, "name": "motor"}))
    );
    let (status, patched) = call(
        &http,
        Method::PATCH,
        &url(&format!("/Assemblies/{id}")),
        Some(r#"{"name": "big motor"}"#),
    )
    .await;
    assert_eq!(
        (status, &patched["name"]),
        (StatusCode::OK, &json!("big motor"))
    );

    let (status, missing) = call(&http, Method::GET, &url("/Assemblies/999"), None).await;
    assert_eq!(
        (status, error_code(&missing)),
        (StatusCode::NOT_FOUND, "MODEL_NOT_FOUND")
    );
    assert_eq!(missing["error"]["statusCode"], json!(404));
    let (status, bad_id) = call(&http, Method::GET, &url("/Assemblies/abc"), None).await;
    assert_eq!(
        (status, error_code(&bad_id)),
        (StatusCode::BAD_REQUEST, "INVALID_ID")
    );
    let (status, _) = call(
        &http,
        Method::PUT,
        &url("/Assemblies/999"),
        Some(r#"{"name": "x"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, deleted) = call(
        &http,
        Method::DELETE,
        &url(&format!("/Assemblies/{id}")),
        None,
    )
    .await;
    assert_eq!((status, deleted), (StatusCode::OK, json!({"count": 1})));
    let (_, deleted) = call(
        &http,
        Method::DELETE,
        &url(&format!("/Assemblies/{id}")),
        None,
    )
    .await;
    assert_eq!(deleted, json!({"count": 0}));
    Ok(())
}

async fn relation_endpoints<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    let base = serve(pool).await?;
    let http = Client::new();
    let url = |path: &str| format!("{base}{path}");
    let (_, engine) = call(
        &http,
        Method::POST,
        &url("/Assemblies"),
        Some(r#"{"name": "engine"}"#),
    )
    .await;
    let id = engine["id"].as_i64().expect("an id");
    let parts = format!("/Assemblies/{id}/parts");

    let (status, bolt) = call(
        &http,
        Method::POST,
        &url(&parts),
        Some(r#"{"partNumber": "B-1", "weight": 0.5}"#),
    )
    .await;
    assert_eq!(
        (status, &bolt["partNumber"]),
        (StatusCode::OK, &json!("B-1"))
    );
    let bolt_id = bolt["id"].as_i64().expect("an id");
    let (status, more) = call(
        &http,
        Method::POST,
        &url(&parts),
        Some(r#"[{"partNumber": "N-2"}, {"partNumber": "W-3"}]"#),
    )
    .await;
    assert_eq!(
        (status, more.as_array().map(Vec::len)),
        (StatusCode::OK, Some(2))
    );
    let (_, spare) = call(
        &http,
        Method::POST,
        &url("/Parts"),
        Some(r#"{"partNumber": "S-4"}"#),
    )
    .await;
    let spare_id = spare["id"].as_i64().expect("an id");

    let filter = encode(r#"{"order": "partNumber DESC", "limit": 2}"#);
    let (status, listed) = call(
        &http,
        Method::GET,
        &url(&format!("{parts}?filter={filter}")),
        None,
    )
    .await;
    let numbers: Vec<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|p| p["partNumber"].as_str())
        .collect();
    assert_eq!((status, numbers), (StatusCode::OK, vec!["W-3", "N-2"]));
    let fields = encode(r#"{"fields": ["partNumber"], "order": "partNumber", "limit": 1}"#);
    let (_, projected) = call(
        &http,
        Method::GET,
        &url(&format!("{parts}?filter={fields}")),
        None,
    )
    .await;
    assert_eq!(
        projected,
        json!([{"partNumber": "B-1"}]),
        "fields without the id answers without it, as LoopBack"
    );
    let with_id = encode(r#"{"fields": ["partNumber", "id"], "order": "partNumber", "limit": 1}"#);
    let (_, projected) = call(
        &http,
        Method::GET,
        &url(&format!("{parts}?filter={with_id}")),
        None,
    )
    .await;
    assert_eq!(projected, json!([{"id": bolt_id, "partNumber": "B-1"}]));
    let only = encode(r#"{"fields": {"weight": false}, "limit": 1}"#);
    let (_, projected) = call(
        &http,
        Method::GET,
        &url(&format!("/Parts?filter={only}")),
        None,
    )
    .await;
    assert_eq!(projected, json!([{"id": bolt_id, "partNumber": "B-1"}]));
    let (_, count) = call(
        &http,
        Method::GET,
        &url(&format!(
            "{parts}/count?where={}",
            encode(r#"{"partNumber": {"like": "%-1"}}"#)
        )),
        None,
    )
    .await;
    assert_eq!(count, json!({"count": 1}));

    let (status, found) = call(
        &http,
        Method::GET,
        &url(&format!("{parts}/{bolt_id}")),
        None,
    )
    .await;
    assert_eq!((status, &found["weight"]), (StatusCode::OK, &json!(0.5)));
    let (status, unlinked) = call(
        &http,
        Method::GET,
        &url(&format!("{parts}/{spare_id}")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        unlinked["error"]["message"],
        json!(format!(
            "No relation found in AssemblyPart for (Assembly.{},Part.{spare_id})",
            engine["id"]
        )),
        "LoopBack's words"
    );
    let (status, updated) = call(
        &http,
        Method::PUT,
        &url(&format!("{parts}/{bolt_id}")),
        Some(r#"{"weight": 0.75}"#),
    )
    .await;
    assert_eq!(
        (status, &updated["weight"], &updated["partNumber"]),
        (StatusCode::OK, &json!(0.75), &json!("B-1"))
    );
    let (status, _) = call(
        &http,
        Method::PUT,
        &url(&format!("{parts}/{spare_id}")),
        Some(r#"{"weight": 1}"#),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, link) = call(
        &http,
        Method::PUT,
        &url(&format!("{parts}/rel/{spare_id}")),
        None,
    )
    .await;
    assert_eq!(
        (status, link),
        (
            StatusCode::OK,
            json!({"assemblyId": id, "partId": spare_id})
        )
    );
    let (status, _) = call(
        &http,
        Method::HEAD,
        &url(&format!("{parts}/rel/{spare_id}")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &http,
        Method::DELETE,
        &url(&format!("{parts}/rel/{spare_id}")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &http,
        Method::DELETE,
        &url(&format!("{parts}/rel/{spare_id}")),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "unlinking what is not linked is a 204 too"
    );
    let (status, _) = call(
        &http,
        Method::HEAD,
        &url(&format!("{parts}/rel/{spare_id}")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, missing) = call(&http, Method::PUT, &url(&format!("{parts}/rel/999")), None).await;
    assert_eq!(
        (status, error_code(&missing)),
        (StatusCode::NOT_FOUND, "MODEL_NOT_FOUND")
    );

    let (status, _) = call(
        &http,
        Method::DELETE,
        &url(&format!("{parts}/{bolt_id}")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &http,
        Method::DELETE,
        &url(&format!("{parts}/{bolt_id}")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, gone) = call(&http, Method::GET, &url(&format!("/Parts/{bolt_id}")), None).await;
    assert_eq!(error_code(&gone), "MODEL_NOT_FOUND");

    let (status, _) = call(&http, Method::DELETE, &url(&parts), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, count) = call(&http, Method::GET, &url(&format!("{parts}/count")), None).await;
    assert_eq!(count, json!({"count": 0}));
    let (_, still) = call(&http, Method::GET, &url("/Parts/count"), None).await;
    assert_eq!(still, json!({"count": 3}), "unlinking all keeps the parts");

    // A missing parent is a 404 on every relation route.
    for (method, path) in [
        (Method::GET, "/Assemblies/999/parts".to_owned()),
        (Method::GET, "/Assemblies/999/parts/count".to_owned()),
        (Method::DELETE, "/Assemblies/999/parts".to_owned()),
        (Method::GET, format!("/Assemblies/999/parts/{spare_id}")),
        (
            Method::DELETE,
            format!("/Assemblies/999/parts/rel/{spare_id}"),
        ),
        (
            Method::HEAD,
            format!("/Assemblies/999/parts/rel/{spare_id}"),
        ),
    ] {
        let (status, _) = call(&http, method.clone(), &url(&path), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let (_, assemblies) = call(
        &http,
        Method::GET,
        &url(&format!("/Parts/{spare_id}/assemblies")),
        None,
    )
    .await;
    assert_eq!(assemblies, json!([]));
    Ok(())
}

async fn bad_requests_are_named_and_change_nothing<DB: Backend>(
    pool: &Pool<DB>,
) -> habtm::Result<()> {
    let base = serve(pool).await?;
    let http = Client::new();
    let url = |path: &str| format!("{base}{path}");
    let (_, engine) = call(
        &http,
        Method::POST,
        &url("/Assemblies"),
        Some(r#"{"name": "engine"}"#),
    )
    .await;
    let parts = format!("/Assemblies/{}/parts", engine["id"]);

    let cases: [(&str, &str, StatusCode, &str, &str); 6] = [
        (
            "/Parts",
            "{\"partNumber\": ",
            StatusCode::BAD_REQUEST,
            "INVALID_JSON",
            "not valid JSON",
        ),
        (
            "/Parts",
            r#"{"partNumber": "X", "colour": "red"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
            "`colour` is not defined in the model",
        ),
        (
            "/Parts",
            r#"{"weight": 1.5}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
            "`partNumber` can't be blank",
        ),
        (
            "/Parts",
            r#"{"partNumber": 42}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            "`partNumber`",
        ),
        (
            &parts,
            r#"[{"partNumber": "ok"}, {"partNumber": null}]"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            "`partNumber`",
        ),
        (
            "/Parts",
            "[1]",
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            "object",
        ),
    ];
    for (path, body, status, code, words) in cases {
        let (got, error) = call(&http, Method::POST, &url(path), Some(body)).await;
        assert_eq!((got, error_code(&error)), (status, code), "{body}: {error}");
        let message = error["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(words), "{body}: {message}");
    }
    let (_, count) = call(&http, Method::GET, &url("/Parts/count"), None).await;
    assert_eq!(count, json!({"count": 0}), "no request was half-applied");
    // LoopBack's `details` name the property and why.
    for (body, property, code) in [
        (r#"{"weight": 1.5}"#, "partNumber", "presence"),
        (
            r#"{"partNumber": "X", "colour": "red"}"#,
            "colour",
            "unknown-property",
        ),
        (r#"{"partNumber": 42}"#, "partNumber", "invalid"),
    ] {
        let (_, error) = call(&http, Method::POST, &url("/Parts"), Some(body)).await;
        let details = &error["error"]["details"];
        assert_eq!(details["context"], json!("Part"), "{error}");
        assert_eq!(details["codes"], json!({ property: [code] }), "{error}");
        assert!(details["messages"][property][0].is_string(), "{error}");
    }

    for filter in [
        r#"{"where": {"partNumbr": "x"}}"#,
        "{not json",
        r#"{"limit": -3}"#,
        r#"{"where": {"id": {"gt": "x'; DROP TABLE"}}}"#,
    ] {
        let (status, error) = call(
            &http,
            Method::GET,
            &url(&format!("/Parts?filter={}", encode(filter))),
            None,
        )
        .await;
        assert_eq!(
            (status, error_code(&error)),
            (StatusCode::BAD_REQUEST, "INVALID_FILTER"),
            "{filter}"
        );
        let message = error["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_ascii_uppercase();
        assert!(
            !message.contains("SELECT") && !message.contains("FROM \""),
            "no SQL in {message}"
        );
    }
    let (status, _) = call(
        &http,
        Method::GET,
        &url(&format!("{parts}/count?where={}", encode("[1]"))),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let huge = format!(r#"{{"partNumber": "{}"}}"#, "x".repeat(10_000));
    let (status, body) = call(&http, Method::POST, &url("/Parts"), Some(&huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body["error"],
        json!({"statusCode": 413, "name": "PayloadTooLargeError",
               "message": "request entity too large", "code": "ENTITY_TOO_LARGE"})
    );

    // Unknown routes and verbs are Express's 404, in LoopBack's error body.
    for (method, path) in [
        (Method::GET, "/Widgets"),
        (Method::DELETE, "/Assemblies"),
        (Method::POST, "/Assemblies/1/exists"),
    ] {
        let (status, body) = call(&http, method.clone(), &url(path), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(
            body,
            json!({"error": {"statusCode": 404, "name": "Error",
                             "message": format!("Cannot {method} {path}")}})
        );
    }
    // A query string axum cannot read at all is LoopBack's 400, not plain text.
    let (status, body) = call(&http, Method::GET, &url("/Parts?filter=%ZZ"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["statusCode"], json!(400), "{body}");

    let (status, document) = call(&http, Method::GET, &url("/explorer/openapi.json"), None).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/Assemblies",
        "/Assemblies/{id}",
        "/Assemblies/{id}/parts",
        "/Assemblies/{id}/parts/rel/{fk}",
        "/Parts/{id}/assemblies/count",
    ] {
        assert!(document["paths"][path].is_object(), "{path} documented");
    }
    assert_eq!(
        document["components"]["schemas"]["Part"]["properties"]["weight"],
        json!({"type": "number", "format": "double", "nullable": true})
    );
    // Every operation: a unique LoopBack operation id, its model as tag, typed ids, and
    // the answers the server gives.
    let mut ids = std::collections::HashSet::new();
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            operations += 1;
            let id = operation["operationId"].as_str().expect("an operationId");
            assert!(ids.insert(id.to_owned()), "{id} is unique");
            assert!(
                operation["tags"][0].is_string(),
                "{method} {path} has a tag"
            );
            for parameter in operation["parameters"].as_array().expect("parameters") {
                if parameter["in"] == "path" {
                    assert_eq!(
                        parameter["schema"]["type"],
                        json!("integer"),
                        "{method} {path}"
                    );
                }
            }
        }
    }
    assert!(operations >= 40, "{operations} operations");
    let paths = &document["paths"];
    let rel = &paths["/Assemblies/{id}/parts/rel/{fk}"];
    assert!(
        rel["head"]["responses"]["200"].is_object(),
        "HEAD answers 200"
    );
    assert_eq!(
        rel["put"]["operationId"],
        json!("Assembly.prototype.__link__parts")
    );
    assert_eq!(
        paths["/Parts"]["post"]["requestBody"]["content"]["application/json"]["schema"]["oneOf"][0],
        json!({"$ref": "#/components/schemas/Part"})
    );
    assert_eq!(
        paths["/Parts"]["get"]["parameters"][0]["name"],
        json!("filter")
    );
    assert_eq!(
        paths["/Parts/count"]["get"]["parameters"][0]["name"],
        json!("where")
    );
    assert!(paths["/Parts/{id}"]["delete"]["responses"]["200"].is_object());
    assert!(paths["/Assemblies/{id}/parts"]["delete"]["responses"]["204"].is_object());

    // The explorer: `/explorer` moves to `/explorer/`, which serves its page and assets.
    let no_redirects = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let moved = no_redirects
        .get(url("/explorer"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(moved.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        moved
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok()),
        Some("/explorer/")
    );
    for asset in [
        "/explorer/",
        "/explorer/swagger-ui-bundle.js",
        "/explorer/swagger-initializer.js",
    ] {
        let response = http.get(url(asset)).send().await.expect("an answer");
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        let text = response.text().await.expect("a body");
        assert!(text.len() > 100, "{asset}");
        if asset.ends_with("initializer.js") {
            assert!(text.contains("/explorer/openapi.json"), "{text}");
        }
    }
    Ok(())
}

/// Bounds past what a database takes and NUL characters are a 400 that says so, and
/// nothing is written.
async fn out_of_range_and_nul_are_bad_requests<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    let base = serve(pool).await?;
    let http = Client::new();
    let get = |query: &str| {
        let url = format!("{base}/Assemblies?filter={}", encode(query));
        let http = http.clone();
        async move { call(&http, Method::GET, &url, None).await }
    };
    for filter in [
        r#"{"limit": 1e19}"#,
        r#"{"limit": 10000000000000000000}"#,
        r#"{"skip": 9223372036854775808}"#,
    ] {
        let (status, body) = get(filter).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "INVALID_FILTER"),
            "{filter}"
        );
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("larger than 9223372036854775807"),
            "{message}"
        );
    }
    let (status, _) = get(r#"{"limit": 1e400}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "beyond any number");
    let (status, _) = get(r#"{"limit": 9223372036854775807, "skip": 1e2}"#).await;
    assert_eq!(status, StatusCode::OK, "the largest bound is fine");

    let (status, body) = call(
        &http,
        Method::POST,
        &format!("{base}/Assemblies"),
        Some(r#"{"name": "nul\u0000here"}"#),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "INVALID_CHARACTER")
    );
    for filter in [
        r#"{"where": {"name": "a\u0000"}}"#,
        r#"{"where": {"name": {"inq": ["x", "\u0000"]}}}"#,
    ] {
        let (status, body) = get(filter).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "INVALID_CHARACTER"),
            "{filter}"
        );
    }
    let count = format!(
        "{base}/Assemblies/count?where={}",
        encode(r#"{"name": {"like": "\u0000%"}}"#)
    );
    let (status, _) = call(&http, Method::GET, &count, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&http, Method::GET, &format!("{base}/Assemblies/%00"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, all) = call(&http, Method::GET, &format!("{base}/Assemblies"), None).await;
    assert_eq!(all, json!([]), "nothing was written");
    Ok(())
}

/// Many clients link, unlink, replace and delete the same rows at once: every answer is one
/// LoopBack gives for the request (never a 500).
async fn concurrent_requests_are_answered<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    let base = serve(pool).await?;
    let http = Client::new();
    let mut ids = Vec::new();
    for body in [r#"{"name": "a"}"#, r#"{"name": "b"}"#] {
        let (_, a) = call(
            &http,
            Method::POST,
            &format!("{base}/Assemblies"),
            Some(body),
        )
        .await;
        ids.push(a["id"].as_i64().expect("an id"));
    }
    let mut parts = Vec::new();
    for n in 0..6 {
        let body = format!(r#"{{"partNumber": "P{n}"}}"#);
        let (_, p) = call(&http, Method::POST, &format!("{base}/Parts"), Some(&body)).await;
        parts.push(p["id"].as_i64().expect("an id"));
    }
    let clients = (0..8usize).map(|client| {
        let (http, base, ids, parts) = (http.clone(), base.clone(), ids.clone(), parts.clone());
        async move {
            let mut statuses = Vec::new();
            for round in 0..12usize {
                let a = ids[(client + round) % ids.len()];
                let p = parts[(client * 7 + round) % parts.len()];
                let (method, path, body) = match (client + round) % 6 {
                    0 | 1 => (Method::PUT, format!("/Assemblies/{a}/parts/rel/{p}"), None),
                    2 => (
                        Method::DELETE,
                        format!("/Assemblies/{a}/parts/rel/{p}"),
                        None,
                    ),
                    3 => (Method::PUT, format!("/Parts/{p}/assemblies/rel/{a}"), None),
                    4 => (
                        Method::PUT,
                        format!("/Assemblies/{a}"),
                        Some(r#"{"name": "renamed"}"#),
                    ),
                    _ => (Method::DELETE, format!("/Parts/{p}"), None),
                };
                let (status, body) =
                    call(&http, method.clone(), &format!("{base}{path}"), body).await;
                statuses.push((status, format!("{method} {path}: {body}")));
            }
            statuses
        }
    });
    for statuses in futures::future::join_all(clients).await {
        for (status, request) in statuses {
            assert!(
                [
                    StatusCode::OK,
                    StatusCode::NO_CONTENT,
                    StatusCode::NOT_FOUND
                ]
                .contains(&status),
                "{status} for {request}"
            );
        }
    }
    Ok(())
}

/// LoopBack clients' bracket syntax (`?filter[where][name]=x`): the same answers as the JSON
/// filter, values coerced to the properties' types, and every malformed form a 400 that
/// names it.
async fn bracket_filters<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    let base = serve(pool).await?;
    let http = Client::new();
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move { call(&http, Method::GET, &url, None).await }
    };
    for (name, weight) in [("p1", "1.5"), ("p2", "2"), ("p3", "null"), ("p4", "4")] {
        let body = format!(r#"{{"partNumber": "{name}", "weight": {weight}}}"#);
        let (status, _) = call(&http, Method::POST, &format!("{base}/Parts"), Some(&body)).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, all) = get("/Parts?filter[order]=id".to_owned()).await;
    let ids: Vec<i64> = all
        .as_array()
        .expect("rows")
        .iter()
        .map(|p| p["id"].as_i64().expect("an id"))
        .collect();
    let numbers = |rows: &Value| -> Vec<String> {
        rows.as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| r["partNumber"].as_str().unwrap_or("?").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };

    // Equality, operators, coercion of numbers, limit and order, as LoopBack reads them.
    let (status, rows) = get("/Parts?filter[where][partNumber]=p2".to_owned()).await;
    assert_eq!(
        (status, numbers(&rows)),
        (StatusCode::OK, vec!["p2".to_owned()])
    );
    let (_, rows) = get(format!("/Parts?filter[where][id]={}", ids[2])).await;
    assert_eq!(numbers(&rows), ["p3"]);
    let (_, rows) =
        get("/Parts?filter[where][weight][gt]=1.7&filter[order]=weight%20DESC".to_owned()).await;
    assert_eq!(numbers(&rows), ["p4", "p2"]);
    let (_, rows) = get(format!(
        "/Parts?filter[where][id][inq][0]={}&filter[where][id][inq][1]={}&filter[order]=id",
        ids[3], ids[0]
    ))
    .await;
    assert_eq!(numbers(&rows), ["p1", "p4"]);
    // A key given twice, and `[]`, are arrays too.
    let (_, rows) = get(format!(
        "/Parts?filter[where][id][nin]={}&filter[where][id][nin]={}&filter[order]=id",
        ids[0], ids[1]
    ))
    .await;
    assert_eq!(numbers(&rows), ["p3", "p4"]);
    let (_, rows) = get(format!(
        "/Parts?filter[where][id][inq][]={}&filter[order][]=id%20DESC&filter[limit]=1",
        ids[1]
    ))
    .await;
    assert_eq!(numbers(&rows), ["p2"]);
    let (_, rows) = get("/Parts?filter[where][weight]=null".to_owned()).await;
    assert_eq!(numbers(&rows), ["p3"]);
    let (_, rows) = get(
        "/Parts?filter[where][or][0][partNumber]=p1&filter[where][or][1][partNumber]=p4&filter[order]=id&filter[skip]=1"
            .to_owned(),
    )
    .await;
    assert_eq!(numbers(&rows), ["p4"]);
    // Percent-encoded brackets, as browsers and LoopBack's clients send them.
    let (_, rows) =
        get("/Parts?filter%5Bwhere%5D%5BpartNumber%5D%5Blike%5D=p%251".to_owned()).await;
    assert_eq!(numbers(&rows), ["p1"]);
    let (_, rows) =
        get("/Parts?filter[fields][partNumber]=true&filter[where][partNumber]=p1".to_owned()).await;
    assert_eq!(rows, json!([{"partNumber": "p1"}]));
    let (_, rows) = get(
        "/Parts?filter[fields][partNumber]=true&filter[fields][id]=true&filter[where][partNumber]=p1"
            .to_owned(),
    )
    .await;
    assert_eq!(rows, json!([{"id": ids[0], "partNumber": "p1"}]));
    let (status, count) = get("/Parts/count?where[weight][lt]=3".to_owned()).await;
    assert_eq!((status, count), (StatusCode::OK, json!({"count": 2})));
    // A relation's list reads them too.
    let (_, kit) = call(
        &http,
        Method::POST,
        &format!("{base}/Assemblies"),
        Some(r#"{"name": "kit"}"#),
    )
    .await;
    let kit = kit["id"].as_i64().expect("an id");
    for id in &ids[..2] {
        let (status, _) = call(
            &http,
            Method::PUT,
            &format!("{base}/Assemblies/{kit}/parts/rel/{id}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, rows) = get(format!(
        "/Assemblies/{kit}/parts?filter[where][partNumber]=p2"
    ))
    .await;
    assert_eq!(numbers(&rows), ["p2"]);
    let (_, count) = get(format!(
        "/Assemblies/{kit}/parts/count?where[partNumber][neq]=p2"
    ))
    .await;
    assert_eq!(count, json!({"count": 1}));

    // Hostile or malformed: a 400 naming the problem, never rows unfiltered.
    let bad = [
        (
            "/Parts?filter[where][color]=red",
            "`color` is not a property",
        ),
        ("/Parts?filter[where][id]=abc", "does not fit `id`"),
        (
            "/Parts?filter[where][weight][gt]=heavy",
            "does not fit `weight`",
        ),
        ("/Parts?filter[limit]=-1", "non-negative whole number"),
        (
            "/Parts?filter[where][id][inq][0]=1&filter[where][id][inq][x]=2",
            "expected an array",
        ),
        (
            "/Parts?filter[where]=x&filter[where][id]=1",
            "both as a value and with keys",
        ),
        (
            "/Parts?filter={}&filter[limit]=1",
            "both as JSON and with brackets",
        ),
        ("/Parts?filter[where]]=1", "each key in brackets"),
        (
            "/Parts?filter[include]=widgets",
            "`widgets` is not a relation of Part",
        ),
        (
            "/Parts?filter[fields][partNumber]=yes",
            "expected true or false",
        ),
        ("/Parts/count?where[id][between][0]=1", "two bounds"),
        (
            "/Parts?filter[where][and][0][and][0][and][0][and][0][and][0][and][0][id]=1",
            "at most 12 levels",
        ),
    ];
    for (path, says) in bad {
        let (status, body) = get(path.to_owned()).await;
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(message.contains(says), "{path}: {message}");
        assert!(!message.contains("SELECT"), "{path}: {message}");
    }
    Ok(())
}

/// CORS as LoopBack's default app has it: any origin echoed, with credentials, preflights
/// answered; and none when the application turns it off.
async fn cross_origin_calls<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    let base = serve(pool).await?;
    let http = Client::new();
    let origin = "https://app.example";
    let preflight = http
        .request(Method::OPTIONS, format!("{base}/Assemblies"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, authorization",
        )
        .send()
        .await
        .expect("an answer");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    assert_eq!(
        header(&preflight, "access-control-allow-origin").as_deref(),
        Some(origin)
    );
    assert_eq!(
        header(&preflight, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert!(header(&preflight, "access-control-allow-methods").is_some_and(|m| m.contains("post")));
    assert!(
        header(&preflight, "access-control-allow-headers")
            .is_some_and(|h| h.contains("authorization"))
    );
    let simple = http
        .get(format!("{base}/Assemblies"))
        .header("origin", origin)
        .send()
        .await
        .expect("an answer");
    assert_eq!(simple.status(), StatusCode::OK);
    assert_eq!(
        header(&simple, "access-control-allow-origin").as_deref(),
        Some(origin)
    );

    // Turned off: no CORS header, and the preflight is an unknown verb.
    let app = Api::new(pool.clone())
        .model::<Assembly>()
        .without_cors()
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let closed = http
        .request(Method::OPTIONS, format!("http://{address}/Assemblies"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("an answer");
    assert_eq!(closed.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&closed, "access-control-allow-origin"), None);
    Ok(())
}

/// LoopBack's other model endpoints: findOne, findById's `fields`, HEAD, replace, the upsert
/// family and updateAll, with their answers and errors.
async fn upserts_find_one_and_update_all<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    let base = serve(pool).await?;
    let http = Client::new();
    let send = |method: Method, path: &str, body: Option<&str>| {
        let http = http.clone();
        let url = format!("{base}{path}");
        let body = body.map(str::to_owned);
        async move { call(&http, method, &url, body.as_deref()).await }
    };
    let (_, p1) = send(
        Method::POST,
        "/Parts",
        Some(r#"{"partNumber": "p1", "weight": 1}"#),
    )
    .await;
    let (_, p2) = send(
        Method::POST,
        "/Parts",
        Some(r#"{"partNumber": "p2", "weight": 2}"#),
    )
    .await;
    let (id1, id2) = (
        p1["id"].as_i64().expect("id"),
        p2["id"].as_i64().expect("id"),
    );

    // findOne: the first match, or LoopBack's 404.
    let one = encode(r#"{"where": {"weight": {"gt": 1}}}"#);
    let (status, found) = send(Method::GET, &format!("/Parts/findOne?filter={one}"), None).await;
    assert_eq!((status, &found), (StatusCode::OK, &p2));
    let (_, found) = send(Method::GET, "/Parts/findOne?filter[order]=id%20DESC", None).await;
    assert_eq!(found, p2);
    let (status, body) = send(
        Method::GET,
        "/Parts/findOne?filter[where][partNumber]=none",
        None,
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "MODEL_NOT_FOUND")
    );

    // findById with fields; HEAD answers as exists.
    let fields = encode(r#"{"fields": ["partNumber"]}"#);
    let (_, partial) = send(Method::GET, &format!("/Parts/{id1}?filter={fields}"), None).await;
    assert_eq!(partial, json!({"partNumber": "p1"}));
    let (_, partial) = send(
        Method::GET,
        &format!("/Parts/{id2}?filter[fields][weight]=false"),
        None,
    )
    .await;
    assert_eq!(partial, json!({"id": id2, "partNumber": "p2"}));
    let (status, _) = send(Method::GET, &format!("/Parts/999999?filter={fields}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(Method::HEAD, &format!("/Parts/{id1}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(Method::HEAD, "/Parts/999999", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // replaceById through POST .../replace.
    let (status, replaced) = send(
        Method::POST,
        &format!("/Parts/{id1}/replace"),
        Some(r#"{"partNumber": "p1b"}"#),
    )
    .await;
    assert_eq!(
        (status, replaced),
        (
            StatusCode::OK,
            json!({"id": id1, "partNumber": "p1b", "weight": null})
        )
    );

    // replaceOrCreate (PUT /, POST /replaceOrCreate) and patchOrCreate (PATCH /).
    let body = format!(r#"{{"id": {id1}, "partNumber": "p1c"}}"#);
    let (_, replaced) = send(Method::PUT, "/Parts", Some(&body)).await;
    assert_eq!(
        replaced,
        json!({"id": id1, "partNumber": "p1c", "weight": null})
    );
    let (_, created) = send(Method::PUT, "/Parts", Some(r#"{"partNumber": "p3"}"#)).await;
    let id3 = created["id"].as_i64().expect("a new id");
    assert!(id3 > id2);
    let body = format!(r#"{{"id": {id2}, "partNumber": "p2b", "weight": 2.5}}"#);
    let (_, replaced) = send(Method::POST, "/Parts/replaceOrCreate", Some(&body)).await;
    assert_eq!(
        replaced,
        json!({"id": id2, "partNumber": "p2b", "weight": 2.5})
    );
    let body = format!(r#"{{"id": {id2}, "weight": 7}}"#);
    let (_, patched) = send(Method::PATCH, "/Parts", Some(&body)).await;
    assert_eq!(
        patched,
        json!({"id": id2, "partNumber": "p2b", "weight": 7.0})
    );
    let (_, created) = send(
        Method::PATCH,
        "/Parts",
        Some(r#"{"partNumber": "p4", "weight": 9}"#),
    )
    .await;
    let id4 = created["id"].as_i64().expect("a new id");
    let (status, body) = send(
        Method::PUT,
        "/Parts",
        Some(r#"{"id": "x", "partNumber": "p"}"#),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED")
    );

    // upsertWithWhere: patches the one match, creates when none, refuses several.
    let where_p4 = encode(r#"{"partNumber": "p4"}"#);
    let (_, upserted) = send(
        Method::POST,
        &format!("/Parts/upsertWithWhere?where={where_p4}"),
        Some(r#"{"weight": 10}"#),
    )
    .await;
    assert_eq!(
        upserted,
        json!({"id": id4, "partNumber": "p4", "weight": 10.0})
    );
    let (_, created) = send(
        Method::POST,
        "/Parts/upsertWithWhere?where[partNumber]=p5",
        Some(r#"{"partNumber": "p5"}"#),
    )
    .await;
    assert_eq!(created["partNumber"], json!("p5"));
    let (status, body) = send(
        Method::POST,
        "/Parts/upsertWithWhere?where[weight][gt]=5",
        Some(r#"{"partNumber": "many"}"#),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "MULTIPLE_INSTANCES")
    );

    // updateAll: one UPDATE of the matches, `{"count": n}`; bad bodies change nothing.
    let heavy = encode(r#"{"weight": {"gt": 5}}"#);
    let (status, count) = send(
        Method::POST,
        &format!("/Parts/update?where={heavy}"),
        Some(r#"{"partNumber": "heavy"}"#),
    )
    .await;
    assert_eq!((status, count), (StatusCode::OK, json!({"count": 2})));
    let (_, count) = send(Method::GET, "/Parts/count?where[partNumber]=heavy", None).await;
    assert_eq!(count, json!({"count": 2}));
    for (body, says) in [
        (
            r#"{"colour": "red"}"#,
            "`colour` is not defined in the model",
        ),
        (r#"{"id": 1}"#, "`id` cannot change"),
        (r#"{"weight": "heavy"}"#, "`weight`"),
        (r#"{"partNumber": null}"#, "`partNumber`"),
    ] {
        let (status, error) = send(
            Method::POST,
            "/Parts/update?where[weight][gt]=5",
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        let message = error["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(says), "{body}: {message}");
    }
    let (_, count) = send(Method::GET, "/Parts/count?where[partNumber]=heavy", None).await;
    assert_eq!(count, json!({"count": 2}));
    let (_, count) = send(Method::POST, "/Parts/update", Some(r#"{"weight": 1}"#)).await;
    assert_eq!(count, json!({"count": 5}));
    let (_, count) = send(Method::GET, "/Parts/count?where[weight]=1", None).await;
    assert_eq!(count, json!({"count": 5}));
    Ok(())
}

/// LoopBack's `include`: a relation name, a list, nested, scoped (per parent), with
/// brackets, on every endpoint that takes a filter; unknown relations and deep nesting are
/// a 400 naming them.
async fn includes<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    let base = serve(pool).await?;
    let http = Client::new();
    let send = |method: Method, path: String, body: Option<&str>| {
        let http = http.clone();
        let url = format!("{base}{path}");
        let body = body.map(str::to_owned);
        async move { call(&http, method, &url, body.as_deref()).await }
    };
    let get = |path: String| send(Method::GET, path, None);
    let (_, a1) = send(
        Method::POST,
        "/Assemblies".into(),
        Some(r#"{"name": "a1"}"#),
    )
    .await;
    let (_, a2) = send(
        Method::POST,
        "/Assemblies".into(),
        Some(r#"{"name": "a2"}"#),
    )
    .await;
    let (a1, a2) = (
        a1["id"].as_i64().expect("id"),
        a2["id"].as_i64().expect("id"),
    );
    let mut parts = Vec::new();
    for name in ["p1", "p2", "p3"] {
        let body = format!(r#"{{"partNumber": "{name}"}}"#);
        let (_, part) = send(Method::POST, "/Parts".into(), Some(&body)).await;
        parts.push(part["id"].as_i64().expect("id"));
    }
    for (owner, part) in [(a1, parts[0]), (a1, parts[1]), (a2, parts[1])] {
        let (status, _) = send(
            Method::PUT,
            format!("/Assemblies/{owner}/parts/rel/{part}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let part =
        |i: usize| json!({"id": parts[i], "partNumber": format!("p{}", i + 1), "weight": null});
    let with =
        |id: i64, name: &str, related: Value| json!({"id": id, "name": name, "parts": related});

    let filter = |json: &str| format!("?filter={}", encode(json));
    let (status, found) = get(format!(
        "/Assemblies{}",
        filter(r#"{"include": "parts", "order": "id"}"#)
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        found,
        json!([
            with(a1, "a1", json!([part(0), part(1)])),
            with(a2, "a2", json!([part(1)]))
        ])
    );
    let (_, listed) = get(format!(
        "/Assemblies{}",
        filter(r#"{"include": ["parts"], "order": "id"}"#)
    ))
    .await;
    assert_eq!(listed, found);
    let (_, bracketed) = get("/Assemblies?filter[include]=parts&filter[order]=id".into()).await;
    assert_eq!(bracketed, found);

    // Nested: each part with its assemblies.
    let (_, nested) = get(format!(
        "/Assemblies{}",
        filter(r#"{"include": {"parts": "assemblies"}, "where": {"name": "a2"}}"#)
    ))
    .await;
    assert_eq!(
        nested[0]["parts"][0]["assemblies"],
        json!([{"id": a1, "name": "a1"}, {"id": a2, "name": "a2"}])
    );

    // Scoped, and the scope's limit is per parent.
    let scoped = r#"{"include": {"relation": "parts", "scope": {"order": "id DESC", "limit": 1, "fields": ["partNumber"]}}, "order": "id"}"#;
    let (_, limited) = get(format!("/Assemblies{}", filter(scoped))).await;
    let p2 = json!([{"partNumber": "p2"}]);
    assert_eq!(
        limited,
        json!([with(a1, "a1", p2.clone()), with(a2, "a2", p2.clone())])
    );
    let (_, limited) = get(
        "/Assemblies?filter[order]=id&filter[include][relation]=parts&filter[include][scope][where][partNumber]=p1"
            .into(),
    )
    .await;
    assert_eq!(
        limited,
        json!([with(a1, "a1", json!([part(0)])), with(a2, "a2", json!([]))])
    );

    // findById, findOne and a relation's list take it too.
    let (_, one) = get(format!(
        "/Assemblies/{a2}{}",
        filter(r#"{"include": "parts"}"#)
    ))
    .await;
    assert_eq!(one, with(a2, "a2", json!([part(1)])));
    let (_, one) = get(format!(
        "/Assemblies/findOne{}",
        filter(r#"{"where": {"name": "a1"}, "include": "parts", "fields": ["name"]}"#)
    ))
    .await;
    assert_eq!(
        one,
        json!({"name": "a1", "parts": [part(0), part(1)]}),
        "read with the id to include the parts, answered without it"
    );
    let (_, related) = get(format!(
        "/Assemblies/{a1}/parts{}",
        filter(r#"{"include": "assemblies", "where": {"partNumber": "p1"}}"#)
    ))
    .await;
    assert_eq!(
        related,
        json!([{"id": parts[0], "partNumber": "p1", "weight": null, "assemblies": [{"id": a1, "name": "a1"}]}])
    );

    let (_, one) = get(format!(
        "/Assemblies/{a1}/parts/{}{}",
        parts[1],
        filter(r#"{"fields": ["partNumber"], "include": "assemblies"}"#)
    ))
    .await;
    assert_eq!(
        one,
        json!({"partNumber": "p2", "assemblies": [{"id": a1, "name": "a1"}, {"id": a2, "name": "a2"}]})
    );
    let (status, _) = get(format!(
        "/Assemblies/{a2}/parts/{}{}",
        parts[0],
        filter(r#"{"fields": ["partNumber"]}"#)
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "p1 is not linked to a2");

    // Bad includes: a 400 that names the problem.
    let deep = r#"{"include": {"parts": {"assemblies": {"parts": {"assemblies": {"parts": {"assemblies": "parts"}}}}}}}"#;
    for (json, says) in [
        (
            r#"{"include": "widgets"}"#,
            "`widgets` is not a relation of Assembly; the relations of Assembly are parts",
        ),
        (
            r#"{"include": {"parts": "colour"}}"#,
            "`colour` is not a relation of Part",
        ),
        (deep, "nested more than 5 levels"),
        (r#"{"include": 7}"#, "expected a relation name"),
        (
            r#"{"include": {"relation": "parts", "scope": 1}}"#,
            "a scope is a filter object",
        ),
        (
            r#"{"include": {"relation": "parts", "scope": {"where": {"nope": 1}}}}"#,
            "`nope` is not a property of Part",
        ),
        (
            r#"{"include": {"relation": "parts", "skope": {}}}"#,
            "unknown key `skope`",
        ),
    ] {
        let (status, body) = get(format!("/Assemblies{}", filter(json))).await;
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{json}: {body}");
        assert!(message.contains(says), "{json}: {message}");
    }
    Ok(())
}

/// Access control: a hook that sees the request and the action, read-only models and
/// relations; LoopBack's 401 and a 403 with their error bodies, and nothing written.
async fn access_control<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    use habtm::rest::{AccessRequest, AccessType, Decision};
    use std::sync::{Arc, Mutex};

    serve(pool).await?; // the tables
    let seen: Arc<Mutex<Vec<AccessRequest>>> = Arc::default();
    let log = seen.clone();
    let app = Api::new(pool.clone())
        .model::<Assembly>()
        .model::<Part>()
        .relation(Assembly::PARTS)
        .relation(Part::ASSEMBLIES)
        .read_only::<Part>()
        .read_only_relation(Part::ASSEMBLIES)
        .access(move |request: AccessRequest| {
            log.lock().expect("the log").push(request.clone());
            async move {
                let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
                match (header("authorization"), header("x-role")) {
                    (_, Some("banned")) => Decision::Denied,
                    (_, Some("no-parts")) if request.relation == Some("parts") => Decision::Denied,
                    (None, _) if request.access == AccessType::Write => {
                        Decision::AuthorizationRequired
                    }
                    _ => Decision::Allow,
                }
            }
        })
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let base = format!("http://{address}");
    let http = Client::new();
    let send = |method: Method, path: &str, body: Option<&str>, headers: &[(&str, &str)]| {
        let mut request = http.request(method, format!("{base}{path}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        async move {
            let response = request.send().await.expect("an answer");
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    };
    let signed_in = [("authorization", "Bearer t")];
    let unauthorized = json!({"error": {"statusCode": 401, "name": "Error",
        "message": "Authorization Required", "code": "AUTHORIZATION_REQUIRED"}});

    // Writes need the header; reads do not.
    let (status, body) = send(Method::POST, "/Assemblies", Some(r#"{"name": "a"}"#), &[]).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, unauthorized.clone())
    );
    let (status, created) = send(
        Method::POST,
        "/Assemblies",
        Some(r#"{"name": "a"}"#),
        &signed_in,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let a = created["id"].as_i64().expect("an id");
    let (status, _) = send(Method::GET, "/Assemblies", None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(Method::GET, "/Assemblies", None, &[("x-role", "banned")]).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("ACCESS_DENIED"))
    );

    // Part is read-only, whoever asks; so is Part's side of the relation.
    let (status, body) = send(
        Method::POST,
        "/Parts",
        Some(r#"{"partNumber": "p"}"#),
        &signed_in,
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, unauthorized.clone())
    );
    let (status, part) = send(
        Method::POST,
        &format!("/Assemblies/{a}/parts"),
        Some(r#"{"partNumber": "p"}"#),
        &signed_in,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{part}");
    let p = part["id"].as_i64().expect("an id");
    let (status, _) = send(
        Method::DELETE,
        &format!("/Parts/{p}/assemblies/rel/{a}"),
        None,
        &signed_in,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, linked) = send(Method::GET, &format!("/Parts/{p}/assemblies"), None, &[]).await;
    assert_eq!(
        (status, linked),
        (StatusCode::OK, json!([{"id": a, "name": "a"}]))
    );
    let (_, count) = send(Method::GET, "/Parts/count", None, &[]).await;
    assert_eq!(count, json!({"count": 1}), "nothing denied was written");

    // A relation the hook refuses is refused through `include` too.
    let no_parts = [("x-role", "no-parts")];
    let (status, _) = send(Method::GET, "/Assemblies", None, &no_parts).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(
        Method::GET,
        &format!("/Assemblies/{a}/parts"),
        None,
        &no_parts,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for path in [
        "/Assemblies?filter[include]=parts".to_owned(),
        format!("/Assemblies/{a}?filter[include]=parts"),
        format!("/Parts/{p}/assemblies?filter[include]=parts"),
        "/Parts?filter[include][assemblies]=parts".to_owned(),
    ] {
        let (status, body) = send(Method::GET, &path, None, &no_parts).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (StatusCode::FORBIDDEN, &json!("ACCESS_DENIED")),
            "{path}"
        );
    }
    let (status, _) = send(Method::GET, "/Assemblies?filter[include]=parts", None, &[]).await;
    assert_eq!(status, StatusCode::OK);

    // The hook saw the model, the relation, the action and the request.
    let seen = seen.lock().expect("the log");
    let create = seen
        .iter()
        .find(|r| r.relation == Some("parts") && r.method == Method::POST)
        .expect("the hook saw the relation's create");
    assert_eq!(
        (create.model, create.access, create.path.as_str()),
        (
            "Assembly",
            AccessType::Write,
            format!("/Assemblies/{a}/parts").as_str()
        )
    );
    assert!(create.headers.contains_key("authorization"));
    Ok(())
}

/// `max_page_size`: every list, and every included relation per parent, answers at most
/// that many rows; a smaller `limit` is kept.
async fn page_size<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    serve(pool).await?; // the tables
    let app = Api::new(pool.clone())
        .model::<Assembly>()
        .model::<Part>()
        .relation(Assembly::PARTS)
        .max_page_size(2)
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let base = format!("http://{address}");
    let http = Client::new();
    let (_, kit) = call(
        &http,
        Method::POST,
        &format!("{base}/Assemblies"),
        Some(r#"{"name": "kit"}"#),
    )
    .await;
    let kit = kit["id"].as_i64().expect("an id");
    for i in 0..5 {
        let body = format!(r#"{{"partNumber": "p{i}"}}"#);
        let (status, _) = call(
            &http,
            Method::POST,
            &format!("{base}/Assemblies/{kit}/parts"),
            Some(&body),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let len = |rows: &Value| rows.as_array().map_or(0, Vec::len);
    for (path, expected) in [
        ("/Parts".to_owned(), 2),
        ("/Parts?filter[limit]=1".to_owned(), 1),
        ("/Parts?filter[limit]=10".to_owned(), 2),
        (format!("/Assemblies/{kit}/parts"), 2),
    ] {
        let (status, rows) = call(&http, Method::GET, &format!("{base}{path}"), None).await;
        assert_eq!((status, len(&rows)), (StatusCode::OK, expected), "{path}");
    }
    let (_, found) = call(
        &http,
        Method::GET,
        &format!("{base}/Assemblies?filter[include]=parts"),
        None,
    )
    .await;
    assert_eq!(len(&found[0]["parts"]), 2);
    let (_, count) = call(&http, Method::GET, &format!("{base}/Parts/count"), None).await;
    assert_eq!(count, json!({"count": 5}), "counts are not paged");
    Ok(())
}

/// A model whose ids the client chooses.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct Tag {
    pub id: String,
    pub label: String,
}

/// Concurrent upserts of one new id: each answers 200, and one row is left, whichever
/// request created it.
async fn concurrent_upserts_of_one_id<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    Schema::new().model::<Tag>().create_all(pool).await?;
    let app = Api::new(pool.clone()).model::<Tag>().router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = Client::new();
    for round in 0..5 {
        let mut tasks = Vec::new();
        for i in 0..8 {
            let http = http.clone();
            let url = format!("http://{address}/Tags");
            let method = if i % 2 == 0 {
                Method::PUT
            } else {
                Method::PATCH
            };
            let body = format!(r#"{{"id": "t{round}", "label": "l{i}"}}"#);
            tasks.push(tokio::spawn(async move {
                call(&http, method, &url, Some(&body)).await
            }));
        }
        for task in tasks {
            let (status, body) = task.await.expect("the task");
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["id"], json!(format!("t{round}")));
        }
    }
    let (_, count) = call(
        &http,
        Method::GET,
        &format!("http://{address}/Tags/count"),
        None,
    )
    .await;
    assert_eq!(count, json!({"count": 5}));
    Ok(())
}

habtm_tests::on_every_backend!(
    concurrent_upserts_of_one_id,
    page_size,
    access_control,
    includes,
    upserts_find_one_and_update_all,
    cross_origin_calls,
    bracket_filters,
    model_endpoints,
    relation_endpoints,
    bad_requests_are_named_and_change_nothing,
    out_of_range_and_nul_are_bad_requests,
    concurrent_requests_are_answered,
);

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Component", through = "KitComponent")]
pub struct Kit {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
pub struct Component {
    pub id: i64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
pub struct KitComponent {
    pub id: i64,
    pub kit_id: i64,
    pub component_id: i64,
    pub quantity: Option<i32>,
}

/// With a join model, linking takes the join row's data and answers with the join row.
async fn linking_with_join_data<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    Schema::new()
        .model::<Kit>()
        .model::<Component>()
        .create_all(pool)
        .await?;
    let app = Api::new(pool.clone())
        .model::<Kit>()
        .model::<Component>()
        .relation(Kit::COMPONENTS)
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = Client::new();
    let url = |path: &str| format!("{base}{path}");
    let (_, kit) = call(
        &http,
        Method::POST,
        &url("/Kits"),
        Some(r#"{"name": "bike"}"#),
    )
    .await;
    let (_, wheel) = call(
        &http,
        Method::POST,
        &url("/Components"),
        Some(r#"{"label": "wheel"}"#),
    )
    .await;
    let (kit_id, wheel_id) = (
        kit["id"].as_i64().expect("an id"),
        wheel["id"].as_i64().expect("an id"),
    );
    let link = format!("/Kits/{kit_id}/components/rel/{wheel_id}");
    let (status, row) = call(&http, Method::PUT, &url(&link), Some(r#"{"quantity": 2}"#)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&row["kitId"], &row["componentId"], &row["quantity"]),
        (&json!(kit_id), &json!(wheel_id), &json!(2))
    );
    let (status, error) = call(
        &http,
        Method::PUT,
        &url(&link),
        Some(r#"{"quantity": "many"}"#),
    )
    .await;
    assert_eq!(
        (status, error_code(&error)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED")
    );
    let (status, _) = call(&http, Method::HEAD, &url(&link), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = call(
        &http,
        Method::GET,
        &url(&format!("/Kits/{kit_id}/components")),
        None,
    )
    .await;
    assert_eq!(listed, json!([{"id": wheel_id, "label": "wheel"}]));
    Ok(())
}

mod through {
    habtm_tests::on_every_backend!(linking_with_join_data);
    use super::linking_with_join_data;
}

/// The `rest_server` example, as it runs.
#[allow(dead_code)]
#[path = "../../examples/rest_server.rs"]
mod example;

/// The example server keeps its data for as long as it runs: its one in-memory connection is
/// never closed for being idle or old, and it answers.
#[tokio::test]
async fn the_example_server_keeps_its_data() {
    let options = example::pool_options();
    assert_eq!(
        options.get_idle_timeout(),
        None,
        "an idle connection would take the data"
    );
    assert_eq!(
        options.get_max_lifetime(),
        None,
        "an old connection would take the data"
    );
    assert_eq!(options.get_min_connections(), 1);
    let pool = options.connect("sqlite::memory:").await.expect("a pool");
    let app = example::app(pool).await.expect("the app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = Client::new();
    let (status, _) = call(
        &http,
        Method::POST,
        &format!("{base}/Assemblies"),
        Some(r#"{"name": "kit"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, all) = call(&http, Method::GET, &format!("{base}/Assemblies"), None).await;
    assert_eq!(all, json!([{"id": 1, "name": "kit"}]));
}
