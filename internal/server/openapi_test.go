package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/server"
)

type jsonMap = map[string]any

var openAPI = sync.OnceValue(func() jsonMap {
	var doc jsonMap
	if err := json.Unmarshal(server.OpenAPIDoc, &doc); err != nil {
		panic("openapi.json: " + err.Error())
	}
	return doc
})

// TestOpenAPIListsExactlyTheRoutes keeps the document and the router in step.
func TestOpenAPIListsExactlyTheRoutes(t *testing.T) {
	doc := openAPI()
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi version %q", v)
	}
	documented := map[string]bool{}
	for path, item := range doc["paths"].(jsonMap) {
		for method := range item.(jsonMap) {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	routed := map[string]bool{}
	s := server.New(nil, server.DefaultConfig(), testLogger(t))
	err := chi.Walk(s.Routes(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if p, ok := strings.CutPrefix(route, "/api/v1"); ok {
			routed[method+" "+strings.TrimSuffix(p, "/")] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for op := range routed {
		if !documented[op] {
			t.Errorf("route %s is not in openapi.json", op)
		}
	}
	for op := range documented {
		if !routed[op] {
			t.Errorf("openapi.json documents %s, which has no route", op)
		}
	}
}

// checkAgainstOpenAPI fails the test when a response is not what the
// document says for its route and status.
func checkAgainstOpenAPI(t *testing.T, method, rawPath string, status int, body any) {
	t.Helper()
	path, _, _ := strings.Cut(strings.TrimPrefix(rawPath, "/api/v1"), "?")
	op := findOperation(method, path)
	if op == nil {
		t.Errorf("%s %s is not documented in openapi.json", method, path)
		return
	}
	resp, ok := op["responses"].(jsonMap)[strconv.Itoa(status)].(jsonMap)
	if !ok {
		t.Errorf("%s %s answered %d, which openapi.json does not document", method, path, status)
		return
	}
	resp = resolve(resp)
	content, _ := resp["content"].(jsonMap)
	if content == nil {
		if body != nil {
			t.Errorf("%s %s %d: documented without a body, got %v", method, path, status, body)
		}
		return
	}
	schema := content["application/json"].(jsonMap)["schema"].(jsonMap)
	if err := validate(body, schema, "body"); err != nil {
		t.Errorf("%s %s %d: response does not match openapi.json: %v", method, path, status, err)
	}
}

func findOperation(method, path string) jsonMap {
	for tmpl, item := range openAPI()["paths"].(jsonMap) {
		if matchTemplate(tmpl, path) {
			if op, ok := item.(jsonMap)[strings.ToLower(method)].(jsonMap); ok {
				return op
			}
		}
	}
	return nil
}

// matchTemplate matches a path against an OpenAPI path template, where a
// {parameter} segment matches any one non-empty segment.
func matchTemplate(tmpl, path string) bool {
	ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		param := strings.HasPrefix(ts[i], "{") && strings.HasSuffix(ts[i], "}")
		if param && ps[i] == "" || !param && ts[i] != ps[i] {
			return false
		}
	}
	return true
}

// resolve follows a local $ref.
func resolve(m jsonMap) jsonMap {
	for {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		node := any(openAPI())
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			node = node.(jsonMap)[part]
		}
		m = node.(jsonMap)
	}
}

// validate checks v against the subset of JSON Schema the document uses.
// Properties not in the schema are errors unless additionalProperties says
// otherwise: the document must describe every field we send.
func validate(v any, schema jsonMap, at string) error {
	schema = resolve(schema)
	if v == nil {
		if n, _ := schema["nullable"].(bool); n {
			return nil
		}
		return fmt.Errorf("%s: null", at)
	}
	if enum, ok := schema["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			found = found || e == v
		}
		if !found {
			return fmt.Errorf("%s: %v is not one of %v", at, v, enum)
		}
	}
	switch schema["type"] {
	case "object":
		obj, ok := v.(jsonMap)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", at, v)
		}
		for _, r := range asList(schema["required"]) {
			if _, ok := obj[r.(string)]; !ok {
				return fmt.Errorf("%s: required %q missing", at, r)
			}
		}
		props, _ := schema["properties"].(jsonMap)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k].(jsonMap); ok {
				if err := validate(obj[k], ps, at+"."+k); err != nil {
					return err
				}
				continue
			}
			switch ap := schema["additionalProperties"].(type) {
			case jsonMap:
				if err := validate(obj[k], ap, at+"."+k); err != nil {
					return err
				}
			case bool:
				if !ap {
					return fmt.Errorf("%s: property %q not documented", at, k)
				}
			default:
				if props != nil {
					return fmt.Errorf("%s: property %q not documented", at, k)
				}
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want an array, got %T", at, v)
		}
		for i, e := range arr {
			if err := validate(e, schema["items"].(jsonMap), fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: want a string, got %T", at, v)
		}
		switch schema["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				return fmt.Errorf("%s: %q is not RFC 3339", at, s)
			}
		case "date":
			if _, err := time.Parse("2006-01-02", s); err != nil {
				return fmt.Errorf("%s: %q is not YYYY-MM-DD", at, s)
			}
		}
	case "integer":
		n, ok := v.(float64)
		if !ok || n != float64(int64(n)) {
			return fmt.Errorf("%s: want an integer, got %v", at, v)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("%s: want a number, got %T", at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: want a boolean, got %T", at, v)
		}
	}
	return nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestValidatorCatchesMismatches: the checker must be able to fail.
func TestValidatorCatchesMismatches(t *testing.T) {
	user := jsonMap{"$ref": "#/components/schemas/User"}
	good := jsonMap{"id": 1.0, "email": "a@b.co", "name": "A", "role": "nurse", "disabled": false}
	if err := validate(good, user, "u"); err != nil {
		t.Fatalf("valid user refused: %v", err)
	}
	for name, bad := range map[string]jsonMap{
		"missing field":      {"id": 1.0, "email": "a@b.co", "name": "A", "role": "nurse"},
		"wrong type":         {"id": "1", "email": "a@b.co", "name": "A", "role": "nurse", "disabled": false},
		"unknown role":       {"id": 1.0, "email": "a@b.co", "name": "A", "role": "janitor", "disabled": false},
		"undocumented field": {"id": 1.0, "email": "a@b.co", "name": "A", "role": "nurse", "disabled": false, "password_hash": "x"},
	} {
		if validate(bad, user, "u") == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
