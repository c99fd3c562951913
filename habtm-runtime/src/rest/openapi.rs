//! The OpenAPI document of the routes, served at `/explorer/openapi.json`.

use serde_json::{Map, Value, json};

use crate::backend::Backend;
use crate::def::ModelDef;

/// The paths and schemas collected while routes are added.
#[derive(Default)]
pub(super) struct Document {
    paths: Map<String, Value>,
    schemas: Map<String, Value>,
}

/// One operation of a path: its method, summary, and the schema of its 200 answer (empty
/// for a 204).
pub(super) type Operation<'a> = (&'a str, &'a str, &'a str);

impl Document {
    /// Documents `operations` on `path`; `{name}` segments are path parameters.
    pub(super) fn route(&mut self, path: &str, operations: &[Operation<'_>]) {
        let entry = self
            .paths
            .entry(path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let parameters: Vec<Value> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        for (method, summary, response) in operations {
            let responses = match *response {
                "" => {
                    json!({"204": {"description": "No Content"}, "404": {"description": "Not Found"}})
                }
                schema => json!({
                    "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}},
                    "400": {"description": "Bad Request"},
                    "404": {"description": "Not Found"},
                    "422": {"description": "Validation Error"}
                }),
            };
            entry[*method] =
                json!({"summary": summary, "parameters": parameters, "responses": responses});
        }
    }

    /// The schema of a model's rows (and of a list of them), with the count and exists
    /// answers every model route shares.
    pub(super) fn schema<DB: Backend>(&mut self, def: &ModelDef) {
        let properties: Map<String, Value> = def
            .columns
            .iter()
            .map(|c| {
                let name = (c.sql_type)(DB::DIALECT).to_ascii_uppercase();
                let kind = if name.contains("INT") {
                    "integer"
                } else if ["FLOAT", "REAL", "DOUBLE", "NUMERIC", "DECIMAL"]
                    .iter()
                    .any(|k| name.contains(k))
                {
                    "number"
                } else if name.contains("BOOL") {
                    "boolean"
                } else {
                    "string"
                };
                (
                    c.json_name.to_owned(),
                    json!({"type": kind, "nullable": c.nullable}),
                )
            })
            .collect();
        let required: Vec<&str> = def
            .columns
            .iter()
            .filter(|c| !c.nullable)
            .map(|c| c.json_name)
            .collect();
        self.schemas.insert(
            def.name.to_owned(),
            json!({"type": "object", "properties": properties, "required": required}),
        );
        self.schemas.insert(
            format!("{}List", def.name),
            json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{}", def.name)}}),
        );
        self.schemas.insert(
            "Count".to_owned(),
            json!({"type": "object", "properties": {"count": {"type": "integer"}}}),
        );
        self.schemas.insert(
            "Exists".to_owned(),
            json!({"type": "object", "properties": {"exists": {"type": "boolean"}}}),
        );
    }

    /// The document, OpenAPI 3.0.
    pub(super) fn into_json(self) -> Value {
        json!({
            "openapi": "3.0.3",
            "info": {"title": "habtm", "version": env!("CARGO_PKG_VERSION")},
            "paths": self.paths,
            "components": {"schemas": self.schemas},
        })
    }
}
