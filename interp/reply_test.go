package interp

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func personSchema() *Schema {
	return &Schema{Name: "Person", Type: &Type{Kind: KindObject, Fields: []*Field{
		{Name: "name", Type: &Type{Kind: KindString}, Doc: "full name"},
		{Name: "age", Type: &Type{Kind: KindInt}},
		{Name: "email", Type: &Type{Kind: KindString}, Optional: true},
		{Name: "score", Type: &Type{Kind: KindFloat}, Optional: true},
		{Name: "tags", Type: &Type{Kind: KindList, Elem: &Type{Kind: KindString}}, Optional: true},
		{Name: "mood", Type: &Type{Kind: KindEnum, Enum: []string{"happy", "sad"}}, Optional: true},
		{Name: "addr", Type: &Type{Kind: KindObject, Fields: []*Field{{Name: "city", Type: &Type{Kind: KindString}}}}, Optional: true},
	}}}
}

func TestParseReplyValues(t *testing.T) {
	r, err := personSchema().ParseReply(`{"name":"Ann","age":34,"score":2,"tags":["a"],"mood":"sad","addr":{"city":"Oslo"},"extra":1}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "Ann", "age": 34, "email": nil, "score": 2.0, "tags": []any{"a"}, "mood": "sad", "addr": map[string]any{"city": "Oslo"}}
	if !reflect.DeepEqual(r.Value, want) {
		t.Errorf("value %#v, want %#v", r.Value, want)
	}
	if len(r.Failed) != 0 || len(r.Passed) != 7 || r.Recovered {
		t.Errorf("passed %v failed %v recovered %v", r.Passed, r.Failed, r.Recovered)
	}
}

func TestParseReplyFields(t *testing.T) {
	tests := []struct {
		name, reply string
		failed      []FieldError
	}{
		{"float for int", `{"name":"A","age":3.5}`, []FieldError{{"age", "must be an integer, but got 3.5"}}},
		{"string for int", `{"name":"A","age":"3"}`, []FieldError{{"age", `must be an integer, but got the string "3"`}}},
		{"whole float is int", `{"name":"A","age":30.0}`, nil},
		{"missing", `{"name":"A"}`, []FieldError{{"age", "is missing"}}},
		{"null required", `{"name":null,"age":1}`, []FieldError{{"name", "must not be null"}}},
		{"enum", `{"name":"A","age":1,"mood":"meh"}`, []FieldError{{"mood", `must be one of "happy", "sad", but got the string "meh"`}}},
		{"list item", `{"name":"A","age":1,"tags":["x",5]}`, []FieldError{{"tags", "item 2 must be a string, but got 5"}}},
		{"nested missing", `{"name":"A","age":1,"addr":{}}`, []FieldError{{"addr", `field "city" is missing`}}},
		{"bool for string", `{"name":true,"age":1}`, []FieldError{{"name", "must be a string, but got true"}}},
		{"object for list", `{"name":"A","age":1,"tags":{}}`, []FieldError{{"tags", "must be a list, but got a JSON object"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := personSchema().ParseReply(tt.reply)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Failed, tt.failed) {
				t.Errorf("failed %v, want %v", r.Failed, tt.failed)
			}
			if len(r.Passed)+len(r.Failed) != 7 {
				t.Errorf("passed %v + failed %v should cover all 7 fields", r.Passed, r.Failed)
			}
		})
	}
}

func TestParseReplyRecovery(t *testing.T) {
	tests := []struct {
		name, reply string
		recovered   bool
		err         string
	}{
		{"plain", `{"name":"A","age":1}`, false, ""},
		{"fence", "```json\n{\"name\":\"A\",\"age\":1}\n```", true, ""},
		{"bare fence", "```\n{\"name\":\"A\",\"age\":1}\n```", true, ""},
		{"prose", "Sure! Here it is: {\"name\":\"A {x}\",\"age\":1} Hope that helps.", true, ""},
		{"empty", "  ", false, "the reply is empty; a JSON object was expected"},
		{"no json", "I cannot help with that.", false, "the reply contains no JSON object"},
		{"truncated", `{"name":"A","age":`, false, "the reply is not valid JSON: it ends in the middle of an object (it may have been cut off)"},
		{"truncated string", `{"name":"An`, false, "the reply is not valid JSON: it ends in the middle of an object (it may have been cut off)"},
		{"two objects", `{"name":"A","age":1} and {"name":"B","age":2}`, false, "the reply contains more than one JSON object; exactly one was expected"},
		{"array", `[{"name":"A","age":1}]`, false, "the reply is a JSON array, but a JSON object was expected"},
		{"syntax", `{"name": 'A'}`, false, "the reply is not valid JSON: invalid character '\\'' looking for beginning of value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := personSchema().ParseReply(tt.reply)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("err %v, want prefix %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Recovered != tt.recovered {
				t.Errorf("recovered %v, want %v", r.Recovered, tt.recovered)
			}
		})
	}
}

func TestGeminiSchema(t *testing.T) {
	got, _ := json.Marshal(personSchema().GeminiSchema())
	want := `{"properties":{"addr":{"nullable":true,"properties":{"city":{"type":"STRING"}},"propertyOrdering":["city"],"required":["city"],"type":"OBJECT"},` +
		`"age":{"type":"INTEGER"},"email":{"nullable":true,"type":"STRING"},"mood":{"enum":["happy","sad"],"nullable":true,"type":"STRING"},` +
		`"name":{"description":"full name","type":"STRING"},"score":{"nullable":true,"type":"NUMBER"},"tags":{"items":{"type":"STRING"},"nullable":true,"type":"ARRAY"}},` +
		`"propertyOrdering":["name","age","email","score","tags","mood","addr"],"required":["name","age"],"type":"OBJECT"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var nilSchema *Schema
	if nilSchema.GeminiSchema() != nil {
		t.Error("nil schema should give nil")
	}
}
