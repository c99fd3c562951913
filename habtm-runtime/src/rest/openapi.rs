//! The OpenAPI 3.0 document of the routes, served at `/explorer/openapi.json` and shown by
//! the explorer at `/explorer/`: every operation with LoopBack's operation id, its model as
//! tag, typed path ids, the `filter`/`where` query parameters, request bodies with the
//! model's schema, and the answers the server really gives.

use serde_json::{Map, Value, json};

use crate::backend::Backend;
use crate::def::{ColumnDef, ModelDef};
use crate::dialect::Dialect;

/// The paths and schemas collected while routes are added.
#[derive(Default)]
pub(super) struct Document {
    paths: Map<String, Value>,
    schemas: Map<String, Value>,
}

/// What an operation takes in its body.
#[derive(Clone, Copy)]
pub(super) enum Body<'a> {
    None,
    /// A whole row of the named model.
    Row(&'a str),
    /// A row, or an array of rows (`create`).
    Rows(&'a str),
    /// Some properties of a row (`patch`, `updateAll`).
    Patch(&'a str),
    /// Any JSON object (a join row's data).
    Object,
}

/// Which query parameter an operation reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Query {
    None,
    Filter,
    Where,
}

/// What an operation answers on success.
#[derive(Clone, Copy)]
pub(super) enum Answer<'a> {
    /// 200 with a JSON body of the named schema.
    Json(&'a str),
    /// 200 with any JSON object.
    Object,
    /// 204, no body.
    NoContent,
    /// 200, no body (`HEAD`).
    Empty,
}

/// One operation of a path.
pub(super) struct Operation<'a> {
    pub(super) method: &'a str,
    /// LoopBack's method name (`find`, `prototype.__link__parts`); the operation id is
    /// `<Model>.<name>`.
    pub(super) name: &'a str,
    pub(super) summary: &'a str,
    pub(super) query: Query,
    pub(super) body: Body<'a>,
    pub(super) answer: Answer<'a>,
}

/// The schema of a path parameter (`{id}`, `{fk}`) by its name.
pub(super) type PathParams<'a> = &'a [(&'a str, Value)];

/// A column's JSON schema, from the type the driver names for it: integers, numbers,
/// booleans, dates and times, UUIDs, bytes, JSON, or text.
fn column_schema(column: &ColumnDef, dialect: Dialect) -> Value {
    let name = (column.sql_type)(dialect).to_ascii_uppercase();
    let base = name
        .split(['(', '['])
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    // SQLite's INTEGER holds 64 bits and its REAL is a double.
    let sqlite = dialect == Dialect::Sqlite;
    let mut schema = match base.as_str() {
        "INTEGER" if sqlite => json!({"type": "integer", "format": "int64"}),
        "REAL" if sqlite => json!({"type": "number", "format": "double"}),
        "BIGINT" | "INT8" | "BIGINT UNSIGNED" | "BIGSERIAL" => {
            json!({"type": "integer", "format": "int64"})
        }
        "INTEGER" | "INT" | "INT4" | "INT2" | "SMALLINT" | "TINYINT" | "MEDIUMINT"
        | "INT UNSIGNED" | "SMALLINT UNSIGNED" | "TINYINT UNSIGNED" | "SERIAL" => {
            json!({"type": "integer", "format": "int32"})
        }
        "REAL" | "FLOAT" | "FLOAT4" => json!({"type": "number", "format": "float"}),
        "DOUBLE" | "DOUBLE PRECISION" | "FLOAT8" => json!({"type": "number", "format": "double"}),
        "NUMERIC" | "DECIMAL" => json!({"type": "number"}),
        "BOOLEAN" | "BOOL" => json!({"type": "boolean"}),
        "UUID" => json!({"type": "string", "format": "uuid"}),
        "DATE" => json!({"type": "string", "format": "date"}),
        "TIMESTAMP"
        | "TIMESTAMPTZ"
        | "DATETIME"
        | "TIMESTAMP WITH TIME ZONE"
        | "TIMESTAMP WITHOUT TIME ZONE" => json!({"type": "string", "format": "date-time"}),
        "BYTEA" | "BLOB" | "VARBINARY" | "BINARY" | "LONGBLOB" => {
            json!({"type": "string", "format": "byte"})
        }
        "JSON" | "JSONB" => json!({}),
        _ => json!({"type": "string"}),
    };
    if column.nullable
        && let Value::Object(map) = &mut schema
    {
        map.insert("nullable".to_owned(), json!(true));
    }
    schema
}

fn reference(schema: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{schema}")})
}

fn error_answer(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": reference("Error")}}})
}

impl Document {
    /// The schema of `def`'s id, for a path parameter.
    pub(super) fn id_schema<DB: Backend>(def: &ModelDef) -> Value {
        let mut schema = column_schema(def.id_column(), DB::DIALECT);
        if let Value::Object(map) = &mut schema {
            map.remove("nullable");
        }
        schema
    }

    /// Documents `operations` on `path`, under `tag` (the model whose routes they are).
    pub(super) fn route(
        &mut self,
        tag: &str,
        path: &str,
        params: PathParams<'_>,
        operations: &[Operation<'_>],
    ) {
        let entry = self
            .paths
            .entry(path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let in_path: Vec<Value> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                let schema = params
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or_else(|| json!({"type": "string"}), |(_, s)| s.clone());
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        for op in operations {
            let mut parameters = in_path.clone();
            match op.query {
                Query::Filter => parameters.push(json!({
                    "name": "filter", "in": "query", "required": false,
                    "description": "LoopBack's filter as JSON: where, order, limit, skip, fields, include (the bracket syntax filter[where][name]=x is read too)",
                    "schema": {"type": "string"},
                })),
                Query::Where => parameters.push(json!({
                    "name": "where", "in": "query", "required": false,
                    "description": "LoopBack's where as JSON (the bracket syntax where[name]=x is read too)",
                    "schema": {"type": "string"},
                })),
                Query::None => {}
            }
            let mut responses = Map::new();
            match op.answer {
                Answer::Json(schema) => {
                    responses.insert(
                        "200".into(),
                        json!({"description": "OK", "content": {"application/json": {"schema": reference(schema)}}}),
                    );
                }
                Answer::Object => {
                    responses.insert(
                        "200".into(),
                        json!({"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}),
                    );
                }
                Answer::NoContent => {
                    responses.insert("204".into(), json!({"description": "No Content"}));
                }
                Answer::Empty => {
                    responses.insert("200".into(), json!({"description": "OK"}));
                }
            }
            if op.query != Query::None || !matches!(op.body, Body::None) || !in_path.is_empty() {
                responses.insert("400".into(), error_answer("Bad Request"));
            }
            responses.insert("401".into(), error_answer("Authorization Required"));
            responses.insert("403".into(), error_answer("Access Denied"));
            if !in_path.is_empty() || op.name == "findOne" {
                responses.insert("404".into(), error_answer("Not Found"));
            }
            if !matches!(op.body, Body::None) {
                responses.insert("422".into(), error_answer("Validation Error"));
            }
            let mut operation = json!({
                "operationId": format!("{tag}.{}", op.name),
                "tags": [tag],
                "summary": op.summary,
                "parameters": parameters,
                "responses": responses,
            });
            let body = match op.body {
                Body::None => None,
                Body::Row(schema) => Some(reference(schema)),
                Body::Rows(schema) => Some(json!({"oneOf": [
                    reference(schema),
                    {"type": "array", "items": reference(schema)},
                ]})),
                Body::Patch(schema) => Some(reference(&format!("{schema}Patch"))),
                Body::Object => Some(json!({"type": "object"})),
            };
            if let Some(schema) = body {
                operation["requestBody"] = json!({
                    "required": !matches!(op.body, Body::Object),
                    "content": {"application/json": {"schema": schema}},
                });
            }
            entry[op.method] = operation;
        }
    }

    /// The schemas of a model's rows (`Part`, `PartList`, `PartPatch`), with the count,
    /// exists and error answers every route shares.
    pub(super) fn schema<DB: Backend>(&mut self, def: &ModelDef) {
        let properties: Map<String, Value> = def
            .columns
            .iter()
            .map(|c| (c.json_name.to_owned(), column_schema(c, DB::DIALECT)))
            .collect();
        let required: Vec<&str> = def
            .columns
            .iter()
            .enumerate()
            .filter(|(i, c)| !(c.nullable || (*i == def.id && def.id_generated)))
            .map(|(_, c)| c.json_name)
            .collect();
        self.schemas.insert(
            def.name.to_owned(),
            json!({"type": "object", "properties": properties, "required": required}),
        );
        self.schemas.insert(
            format!("{}Patch", def.name),
            json!({"type": "object", "properties": properties}),
        );
        self.schemas.insert(
            format!("{}List", def.name),
            json!({"type": "array", "items": reference(def.name)}),
        );
        self.schemas.insert(
            "Count".to_owned(),
            json!({"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}),
        );
        self.schemas.insert(
            "Exists".to_owned(),
            json!({"type": "object", "properties": {"exists": {"type": "boolean"}}, "required": ["exists"]}),
        );
        self.schemas.insert(
            "Error".to_owned(),
            json!({"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object",
                "required": ["statusCode", "name", "message"],
                "properties": {
                    "statusCode": {"type": "integer"},
                    "name": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                    "details": {"type": "object"},
                },
            }}}),
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
