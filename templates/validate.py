#!/usr/bin/env python3
"""Validate the built-in integration template catalog (templates/*.json).

Usage: python3 templates/validate.py [DIR]      (DIR defaults to this file's directory)

Prints every problem as `file: JSON path: message` and exits 1 if there is any;
prints a one-line summary and exits 0 when the catalog is clean.
Needs the `jsonschema` package (pip install jsonschema).
"""

import json
import os
import re
import sys
from urllib.parse import urlsplit

try:
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import SchemaError
except ImportError:  # pragma: no cover
    sys.exit("validate.py needs the jsonschema package: pip install jsonschema")

MIN_TEMPLATES = 45
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

CATEGORIES = {
    "CAD", "SIMULATION", "EDA", "PROJECT_MANAGEMENT", "COMMUNICATION", "VERSION_CONTROL",
    "CLOUD_STORAGE", "CI_CD", "TESTING", "MONITORING", "SOCIAL_MEDIA", "ANALYTICS", "AI_SERVICE",
    "CRM", "EMAIL", "DATABASE", "MESSAGING", "FILE_TRANSFER", "CUSTOM",
}
PROTOCOLS = {"REST", "GRAPHQL"}
AUTH_KINDS = {"NONE", "API_KEY", "BEARER", "BASIC", "OAUTH2", "CUSTOM", "AWS_SIGV4"}
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}
HEALTH_METHODS = {"GET", "HEAD", "POST"}  # POST only for RPC-style APIs (Slack, Dropbox, GraphQL)
NO_BODY_METHODS = {"GET", "HEAD"}
PARAM_LOCATIONS = {"path", "query", "body"}
WEBHOOK_SCHEMES = {"GITHUB", "SLACK", "STANDARD_WEBHOOKS", "SHARED_TOKEN"}

REQUIRED_KEYS = [
    "slug", "name", "description", "category", "protocol", "icon", "docsUrl", "authKinds",
    "configSchema", "credentialSchema", "credentialMapping", "exampleConfig", "exampleCredentials",
    "baseUrl", "headers", "operations", "healthCheck",
]
OPTIONAL_KEYS = ["rateLimit", "oauth2", "incomingWebhooks", "webhookEvents"]

# credentialMapping: kind -> (required keys, optional keys)
MAPPING_KEYS = {
    "NONE": (set(), set()),
    "API_KEY": ({"in", "name", "value"}, set()),
    "BEARER": ({"token"}, set()),
    "BASIC": ({"username", "password"}, set()),
    "OAUTH2": ({"clientId", "clientSecret"}, set()),
    "CUSTOM": ({"headers"}, set()),
    "AWS_SIGV4": ({"accessKeyId", "secretAccessKey", "region", "service"}, {"sessionToken"}),
}

# pagination: style -> (required keys, optional keys)
PAGINATION_KEYS = {
    "CURSOR": ({"cursorParam", "itemsPointer"}, {"nextCursorPointer", "nextCursorFromLastItem", "limitParam", "xml"}),
    "PAGE": ({"pageParam", "itemsPointer", "firstPage"}, {"limitParam", "xml"}),
    "OFFSET": ({"offsetParam", "limitParam", "itemsPointer"}, {"totalPointer", "xml"}),
    "LINK_HEADER": ({"itemsPointer"}, {"limitParam"}),
}
PAGINATION_PARAM_KEYS = ("cursorParam", "pageParam", "offsetParam", "limitParam")
PAGINATION_POINTER_KEYS = ("itemsPointer", "nextCursorPointer", "nextCursorFromLastItem", "totalPointer")

SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
OP_NAME_RE = re.compile(r"^[a-z][A-Za-z0-9]*$")
PATH_PARAM_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PATH_PARAM_RE = re.compile(r"\{([^{}]*)\}")
PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
EVENT_SOURCE_RE = re.compile(r"^(header:[!#$%&'*+.^_`|~0-9A-Za-z-]+|body:.*)$")


def jpath(base, key):
    """Extend a JSON path ($.a[0].b) with an object key or an array index."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    if re.match(r"^[A-Za-z_$][A-Za-z0-9_$]*$", key):
        return f"{base}.{key}"
    return f"{base}[{json.dumps(key)}]"


def valid_pointer(ptr):
    """RFC 6901: empty, or '/'-separated tokens where '~' is followed by 0 or 1."""
    if not isinstance(ptr, str):
        return False
    if ptr == "":
        return True
    return ptr.startswith("/") and re.search(r"~(?![01])", ptr) is None


class Checker:
    def __init__(self, fname):
        self.fname = fname
        self.problems = []

    def err(self, path, msg):
        self.problems.append(f"{self.fname}: {path}: {msg}")

    # ------------------------------------------------------------- helpers
    def string(self, obj, key, path, required=True, nonempty=True):
        v = obj.get(key)
        p = jpath(path, key)
        if v is None:
            if required:
                self.err(p, "is required")
            return None
        if not isinstance(v, str) or (nonempty and not v.strip()):
            self.err(p, "must be a non-empty string")
            return None
        return v

    def check_schema(self, schema, path, top_level_object=False):
        if not isinstance(schema, dict):
            self.err(path, "must be a JSON Schema object")
            return False
        if "$schema" in schema and schema["$schema"] != DRAFT_2020_12:
            self.err(jpath(path, "$schema"), f"must be {DRAFT_2020_12}")
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as e:
            where = path
            for x in e.absolute_path:
                where = jpath(where, x)
            self.err(where, f"invalid JSON Schema 2020-12: {e.message}")
            return False
        if top_level_object and schema.get("type") != "object":
            self.err(jpath(path, "type"), 'must be "object"')
        self.check_defaults(schema, path)
        return True

    def check_defaults(self, schema, path):
        """A `default` (or `const`) must validate against the schema it sits in."""
        if not isinstance(schema, dict):
            return
        for key in ("default", "const"):
            if key in schema:
                sub = {k: v for k, v in schema.items() if k not in ("default", "const", "$schema")}
                for e in Draft202012Validator(sub, format_checker=FormatChecker()).iter_errors(schema[key]):
                    self.err(jpath(path, key), f"does not validate against its own schema: {e.message}")
        for name, sub in (schema.get("properties") or {}).items():
            self.check_defaults(sub, jpath(jpath(path, "properties"), name))
        if isinstance(schema.get("items"), dict):
            self.check_defaults(schema["items"], jpath(path, "items"))

    def validate_instance(self, schema, instance, path, what):
        if not isinstance(schema, dict):
            return
        try:
            v = Draft202012Validator(schema, format_checker=FormatChecker())
            errors = sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path))
        except Exception as e:  # broken schema already reported
            self.err(path, f"cannot validate: {e}")
            return
        for e in errors:
            where = path
            for x in e.absolute_path:
                where = jpath(where, x)
            self.err(where, f"does not validate against {what}: {e.message}")

    def placeholders(self, text, path, allowed, config_schema):
        """Check {{ns.key}} placeholders in text; `allowed` is the set of namespaces permitted."""
        props = (config_schema or {}).get("properties") or {}
        required = set((config_schema or {}).get("required") or [])
        cred_props = ((self.doc.get("credentialSchema") or {}).get("properties") or {}) if isinstance(self.doc.get("credentialSchema"), dict) else {}
        stripped = PLACEHOLDER_RE.sub("", text)
        if "{{" in stripped or "}}" in stripped:
            self.err(path, "has an unbalanced {{ }} placeholder")
        for expr in PLACEHOLDER_RE.findall(text):
            ns, _, key = expr.partition(".")
            if ns not in allowed or not key:
                self.err(path, f"placeholder {{{{{expr}}}}} not allowed here (allowed: {', '.join('{{' + a + '.<key>}}' for a in sorted(allowed))})")
                continue
            if ns == "config":
                if key not in props:
                    self.err(path, f"{{{{config.{key}}}}} is not a property of configSchema")
                elif key not in required and "default" not in props[key]:
                    self.err(path, f"{{{{config.{key}}}}} is neither required nor defaulted in configSchema")
            elif ns == "credentials" and key not in cred_props:
                self.err(path, f"{{{{credentials.{key}}}}} is not a property of credentialSchema")

    def render_config(self, text):
        cfg = {}
        cs = self.doc.get("configSchema")
        if isinstance(cs, dict):
            for k, v in (cs.get("properties") or {}).items():
                if isinstance(v, dict) and "default" in v:
                    cfg[k] = v["default"]
        if isinstance(self.doc.get("exampleConfig"), dict):
            cfg.update(self.doc["exampleConfig"])
        return PLACEHOLDER_RE.sub(lambda m: str(cfg.get(m.group(1).partition(".")[2], "x")), text)

    def url(self, text, path, https_only=False):
        rendered = self.render_config(text)
        try:
            parts = urlsplit(rendered)
        except ValueError as e:
            self.err(path, f"not a URL once rendered with exampleConfig ({rendered}): {e}")
            return
        schemes = {"https"} if https_only else {"http", "https"}
        if parts.scheme not in schemes or not parts.netloc:
            self.err(path, f"must render to an absolute {'/'.join(sorted(schemes))} URL with exampleConfig (got {rendered!r})")

    # ------------------------------------------------------------- document
    def run(self, doc, slug_expected):
        self.doc = doc
        if not isinstance(doc, dict):
            self.err("$", "must be a JSON object")
            return
        for k in REQUIRED_KEYS:
            if k not in doc:
                self.err(jpath("$", k), "is required")
        for k in doc:
            if k not in REQUIRED_KEYS and k not in OPTIONAL_KEYS:
                self.err(jpath("$", k), "unknown key")

        slug = self.string(doc, "slug", "$")
        if slug is not None:
            if not SLUG_RE.match(slug):
                self.err("$.slug", "must match [a-z0-9]+(-[a-z0-9]+)*")
            if slug != slug_expected:
                self.err("$.slug", f"must equal the file name ({slug_expected})")
        self.string(doc, "name", "$")
        self.string(doc, "description", "$")
        if "category" in doc and doc["category"] not in CATEGORIES:
            self.err("$.category", f"must be one of {', '.join(sorted(CATEGORIES))}")
        if "protocol" in doc and doc["protocol"] not in PROTOCOLS:
            self.err("$.protocol", f"must be one of {', '.join(sorted(PROTOCOLS))}")
        icon = self.string(doc, "icon", "$")
        if icon is not None and (len(icon) > 16 or "/" in icon or any(c.isascii() and c.isalnum() for c in icon)):
            self.err("$.icon", "must be an emoji (no URLs or text)")
        docs = self.string(doc, "docsUrl", "$")
        if docs is not None and not docs.startswith("https://"):
            self.err("$.docsUrl", "must be an https URL")

        auth = doc.get("authKinds")
        if not isinstance(auth, list) or not auth:
            self.err("$.authKinds", "must be a non-empty array")
            auth = []
        else:
            for i, a in enumerate(auth):
                if a not in AUTH_KINDS:
                    self.err(f"$.authKinds[{i}]", f"must be one of {', '.join(sorted(AUTH_KINDS))}")
            if len(set(map(str, auth))) != len(auth):
                self.err("$.authKinds", "has duplicates")

        config_ok = "configSchema" in doc and self.check_schema(doc["configSchema"], "$.configSchema", True)
        cred_ok = "credentialSchema" in doc and self.check_schema(doc["credentialSchema"], "$.credentialSchema", True)
        if config_ok:
            if not isinstance(doc.get("exampleConfig"), dict):
                self.err("$.exampleConfig", "must be an object")
            else:
                self.validate_instance(doc["configSchema"], doc["exampleConfig"], "$.exampleConfig", "configSchema")
        if cred_ok:
            if not isinstance(doc.get("exampleCredentials"), dict):
                self.err("$.exampleCredentials", "must be an object")
            else:
                self.validate_instance(doc["credentialSchema"], doc["exampleCredentials"], "$.exampleCredentials", "credentialSchema")
        config_schema = doc.get("configSchema") if config_ok else {}

        self.check_mapping(doc.get("credentialMapping"), auth, config_schema)

        base = self.string(doc, "baseUrl", "$")
        if base is not None:
            self.placeholders(base, "$.baseUrl", {"config"}, config_schema)
            self.url(base, "$.baseUrl")
            if base.endswith("/"):
                self.err("$.baseUrl", "must not end with '/' (operation paths start with '/')")
        headers = doc.get("headers")
        if not isinstance(headers, dict):
            if "headers" in doc:
                self.err("$.headers", "must be an object of header name to string value")
        else:
            for name, value in headers.items():
                hp = jpath("$.headers", name)
                if not HEADER_NAME_RE.match(name):
                    self.err(hp, "is not a valid header name")
                if not isinstance(value, str):
                    self.err(hp, "must be a string")
                else:
                    self.placeholders(value, hp, {"config"}, config_schema)

        ops = self.check_operations(doc.get("operations"), config_schema)
        self.check_health(doc.get("healthCheck"), ops)
        self.check_rate_limit(doc.get("rateLimit"))
        self.check_oauth2(doc.get("oauth2"), auth, config_schema)
        self.check_incoming(doc.get("incomingWebhooks"))
        self.check_events(doc.get("webhookEvents"))

    def check_mapping(self, m, auth, config_schema):
        path = "$.credentialMapping"
        if not isinstance(m, dict):
            if m is not None:
                self.err(path, "must be an object")
            return
        kind = m.get("kind")
        if kind not in MAPPING_KEYS:
            self.err(jpath(path, "kind"), f"must be one of {', '.join(sorted(MAPPING_KEYS))}")
            return
        if auth and kind != auth[0]:
            self.err(jpath(path, "kind"), f"must be the default auth kind authKinds[0] ({auth[0]})")
        req, opt = MAPPING_KEYS[kind]
        for k in sorted(req - set(m)):
            self.err(jpath(path, k), f"is required for kind {kind}")
        for k in sorted(set(m) - req - opt - {"kind"}):
            self.err(jpath(path, k), f"unknown key for kind {kind}")
        if kind == "API_KEY" and "in" in m and m["in"] not in ("HEADER", "QUERY"):
            self.err(jpath(path, "in"), "must be HEADER or QUERY")
        if kind == "API_KEY" and m.get("in") == "HEADER" and isinstance(m.get("name"), str) and not HEADER_NAME_RE.match(m["name"]):
            self.err(jpath(path, "name"), "is not a valid header name")
        used = set()

        def walk(v, p):
            if isinstance(v, str):
                self.placeholders(v, p, {"credentials", "config"}, config_schema)
                used.update(k for ns, _, k in (e.partition(".") for e in PLACEHOLDER_RE.findall(v)) if ns == "credentials")
            elif isinstance(v, dict):
                for k, x in v.items():
                    if p.endswith(".headers") and not HEADER_NAME_RE.match(k):
                        self.err(jpath(p, k), "is not a valid header name")
                    walk(x, jpath(p, k))
            else:
                self.err(p, "must be a string (or an object of strings for headers)")

        for k, v in m.items():
            if k != "kind":
                if kind == "CUSTOM" and k == "headers" and (not isinstance(v, dict) or not v):
                    self.err(jpath(path, k), "must be a non-empty object of header name to value")
                    continue
                walk(v, jpath(path, k))
        cred = self.doc.get("credentialSchema")
        if isinstance(cred, dict):
            for field in (cred.get("properties") or {}):
                if field not in used:
                    self.err(jpath(jpath("$.credentialSchema", "properties"), field), "is never used by credentialMapping")
            if kind == "NONE" and cred.get("properties"):
                self.err("$.credentialSchema", "must declare no fields when the default auth kind is NONE")

    def check_operations(self, ops, config_schema):
        path = "$.operations"
        by_name = {}
        if not isinstance(ops, list) or not ops:
            if ops is not None:
                self.err(path, "must be a non-empty array")
            return by_name
        graphql = self.doc.get("protocol") == "GRAPHQL"
        allowed = {"name", "description", "method", "path", "parameters", "body", "pagination"}
        for i, op in enumerate(ops):
            op_path = f"{path}[{i}]"
            if not isinstance(op, dict):
                self.err(op_path, "must be an object")
                continue
            for k in op:
                if k not in allowed:
                    self.err(jpath(op_path, k), "unknown key")
            name = self.string(op, "name", op_path)
            if name is not None:
                if not OP_NAME_RE.match(name):
                    self.err(jpath(op_path, "name"), "must be lowerCamelCase")
                if name in by_name:
                    self.err(jpath(op_path, "name"), f"duplicate operation name {name!r}")
                by_name[name] = op
            self.string(op, "description", op_path)
            method = op.get("method")
            if method not in METHODS:
                self.err(jpath(op_path, "method"), f"must be one of {', '.join(sorted(METHODS))}")
            p = self.string(op, "path", op_path)
            params = op.get("parameters", [])
            if not isinstance(params, list):
                self.err(jpath(op_path, "parameters"), "must be an array")
                params = []
            declared = {}
            for j, prm in enumerate(params):
                pp = f"{op_path}.parameters[{j}]"
                if not isinstance(prm, dict):
                    self.err(pp, "must be an object")
                    continue
                for k in prm:
                    if k not in {"name", "in", "required", "schema", "description"}:
                        self.err(jpath(pp, k), "unknown key")
                pname = self.string(prm, "name", pp)
                loc = prm.get("in")
                if loc not in PARAM_LOCATIONS:
                    self.err(jpath(pp, "in"), "must be one of path, query, body")
                if "required" in prm and not isinstance(prm["required"], bool):
                    self.err(jpath(pp, "required"), "must be a boolean")
                if "schema" not in prm:
                    self.err(jpath(pp, "schema"), "is required")
                else:
                    self.check_schema(prm["schema"], jpath(pp, "schema"))
                if "description" in prm and not isinstance(prm["description"], str):
                    self.err(jpath(pp, "description"), "must be a string")
                if pname is None:
                    continue
                if pname in declared:
                    self.err(jpath(pp, "name"), f"duplicate parameter name {pname!r}")
                declared[pname] = prm
                if loc == "path":
                    if prm.get("required") is not True:
                        self.err(jpath(pp, "required"), "path parameters must be required: true")
                    if not PATH_PARAM_NAME_RE.match(pname):
                        self.err(jpath(pp, "name"), "path parameter names must be identifiers")
                    if p is not None and "{" + pname + "}" not in p:
                        self.err(jpath(pp, "name"), f"path parameter {pname!r} does not appear in the path")
                if loc == "body" and method in NO_BODY_METHODS:
                    self.err(jpath(pp, "in"), f"{method} operations take no body parameters")
            if p is not None:
                pth = jpath(op_path, "path")
                if not p.startswith("/"):
                    self.err(pth, "must start with '/'")
                if "{{" in p or "}}" in p:
                    self.err(pth, "path templates use {param}, not {{…}}")
                elif "?" in p or "#" in p:
                    self.err(pth, "must not contain a query or fragment; declare query parameters instead")
                for ref in PATH_PARAM_RE.findall(p):
                    prm = declared.get(ref)
                    if prm is None or prm.get("in") != "path":
                        self.err(pth, f"{{{ref}}} is not a declared parameter with in: path")
                rest = PATH_PARAM_RE.sub("", p)
                if "{" in rest or "}" in rest:
                    self.err(pth, "has unbalanced braces")
            if "body" in op:
                if not isinstance(op["body"], dict):
                    self.err(jpath(op_path, "body"), "must be a JSON object")
                if method in NO_BODY_METHODS:
                    self.err(jpath(op_path, "body"), f"{method} operations take no body")
            if graphql:
                has_query = (isinstance(op.get("body"), dict) and isinstance(op["body"].get("query"), str)) or \
                    any(isinstance(x, dict) and x.get("name") == "query" and x.get("in") == "body" for x in params)
                if method != "POST" or not has_query:
                    self.err(op_path, "GRAPHQL operations must be POST with a fixed body.query or a body parameter 'query'")
            if "pagination" in op:
                self.check_pagination(op["pagination"], jpath(op_path, "pagination"), declared)
        return by_name

    def check_pagination(self, pg, path, declared):
        if not isinstance(pg, dict):
            self.err(path, "must be an object")
            return
        style = pg.get("style")
        if style not in PAGINATION_KEYS:
            self.err(jpath(path, "style"), f"must be one of {', '.join(PAGINATION_KEYS)}")
            return
        req, opt = PAGINATION_KEYS[style]
        for k in sorted(req - set(pg)):
            self.err(jpath(path, k), f"is required for style {style}")
        for k in sorted(set(pg) - req - opt - {"style"}):
            self.err(jpath(path, k), f"unknown key for style {style}")
        if style == "CURSOR" and ("nextCursorPointer" in pg) == ("nextCursorFromLastItem" in pg):
            self.err(path, "CURSOR needs exactly one of nextCursorPointer or nextCursorFromLastItem")
        for k in PAGINATION_POINTER_KEYS:
            if k in pg and not valid_pointer(pg[k]):
                self.err(jpath(path, k), "must be an RFC 6901 JSON pointer ('' or starting with '/')")
        for k in PAGINATION_PARAM_KEYS:
            if k in pg:
                name = pg[k]
                prm = declared.get(name) if isinstance(name, str) else None
                if prm is None:
                    self.err(jpath(path, k), f"{name!r} is not a declared parameter of the operation")
                elif prm.get("in") == "path" or prm.get("required"):
                    self.err(jpath(path, k), f"{name!r} must be an optional query or body parameter")
        if "firstPage" in pg and (not isinstance(pg["firstPage"], int) or isinstance(pg["firstPage"], bool) or pg["firstPage"] < 0):
            self.err(jpath(path, "firstPage"), "must be a non-negative integer")
        if "xml" in pg and not isinstance(pg["xml"], bool):
            self.err(jpath(path, "xml"), "must be a boolean")

    def check_health(self, hc, ops):
        path = "$.healthCheck"
        if not isinstance(hc, dict):
            if hc is not None:
                self.err(path, "must be an object")
            return
        for k in hc:
            if k not in {"operation", "expectedStatus", "maxLatencyMs"}:
                self.err(jpath(path, k), "unknown key")
        name = self.string(hc, "operation", path)
        if name is not None:
            op = ops.get(name)
            if op is None:
                self.err(jpath(path, "operation"), f"operation {name!r} is not in operations")
            else:
                for prm in op.get("parameters") or []:
                    if isinstance(prm, dict) and prm.get("required"):
                        self.err(jpath(path, "operation"), f"operation {name!r} has a required parameter {prm.get('name')!r}")
                if op.get("method") not in HEALTH_METHODS:
                    self.err(jpath(path, "operation"), f"a health check must be a GET (or an RPC-style POST), not {op.get('method')}")
        st = hc.get("expectedStatus")
        if not isinstance(st, list) or not st or not all(isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in st):
            self.err(jpath(path, "expectedStatus"), "must be a non-empty array of HTTP status codes")
        ms = hc.get("maxLatencyMs")
        if not isinstance(ms, int) or isinstance(ms, bool) or ms <= 0:
            self.err(jpath(path, "maxLatencyMs"), "must be a positive integer")

    def check_rate_limit(self, rl):
        path = "$.rateLimit"
        if rl is None:
            return
        if not isinstance(rl, dict) or not rl:
            self.err(path, "must be a non-empty object")
            return
        for k, v in rl.items():
            if k == "requestsPerMinute":
                if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                    self.err(jpath(path, k), "must be a positive integer")
            elif k in ("remainingHeader", "resetHeader"):
                if not isinstance(v, str) or not HEADER_NAME_RE.match(v):
                    self.err(jpath(path, k), "must be a header name")
            else:
                self.err(jpath(path, k), "unknown key")

    def check_oauth2(self, o, auth, config_schema):
        path = "$.oauth2"
        wants = "OAUTH2" in auth
        if o is None:
            if wants:
                self.err(path, "is required when OAUTH2 is in authKinds")
            return
        if not wants:
            self.err(path, "only allowed when OAUTH2 is in authKinds")
        if not isinstance(o, dict):
            self.err(path, "must be an object")
            return
        for k in o:
            if k not in {"authorizeUrl", "tokenUrl", "scopes"}:
                self.err(jpath(path, k), "unknown key")
        for k in ("authorizeUrl", "tokenUrl"):
            v = self.string(o, k, path)
            if v is not None:
                self.placeholders(v, jpath(path, k), {"config"}, config_schema)
                self.url(v, jpath(path, k), https_only=True)
        sc = o.get("scopes")
        if not isinstance(sc, list) or not all(isinstance(s, str) and s and " " not in s for s in sc):
            self.err(jpath(path, "scopes"), "must be an array of scope strings (may be empty)")
        elif len(set(sc)) != len(sc):
            self.err(jpath(path, "scopes"), "has duplicates")

    def check_incoming(self, iw):
        path = "$.incomingWebhooks"
        if iw is None:
            return
        if not isinstance(iw, dict):
            self.err(path, "must be an object")
            return
        for k in iw:
            if k not in {"scheme", "eventNameSource"}:
                self.err(jpath(path, k), "unknown key")
        if iw.get("scheme") not in WEBHOOK_SCHEMES:
            self.err(jpath(path, "scheme"), f"must be one of {', '.join(sorted(WEBHOOK_SCHEMES))}")
        src = iw.get("eventNameSource")
        if not isinstance(src, str) or not EVENT_SOURCE_RE.match(src):
            self.err(jpath(path, "eventNameSource"), "must be header:<Name> or body:<JSON pointer>")
        elif src.startswith("body:") and not valid_pointer(src[5:]):
            self.err(jpath(path, "eventNameSource"), "body: must be followed by an RFC 6901 JSON pointer")

    def check_events(self, ev):
        path = "$.webhookEvents"
        if ev is None:
            return
        if not isinstance(ev, list) or not ev or not all(isinstance(e, str) and e.strip() for e in ev):
            self.err(path, "must be a non-empty array of event names")
        elif len(set(ev)) != len(ev):
            self.err(path, "has duplicates")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    files = sorted(f for f in os.listdir(root) if f.endswith(".json"))
    problems = []
    for fname in files:
        c = Checker(fname)
        try:
            with open(os.path.join(root, fname), encoding="utf-8") as fh:
                doc = json.load(fh)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            c.err("$", f"not valid JSON: {e}")
        else:
            c.run(doc, fname[: -len(".json")])
        problems.extend(c.problems)
    if len(files) < MIN_TEMPLATES:
        problems.append(f"{root}: $: only {len(files)} templates, at least {MIN_TEMPLATES} expected")
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s) in {len(files)} template(s)", file=sys.stderr)
        return 1
    print(f"OK: {len(files)} templates valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
