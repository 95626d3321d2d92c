package demos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Parquet has no fixed-size list: a vector column is a LIST whose length
// can differ per row. Hugging Face `datasets`, which LeRobot loads parquet
// files with, restores the intended types from the file's key-value
// metadata key "huggingface": {"info": {"features": {COLUMN: FEATURE}}}
// (datasets arrow_writer / Features.from_arrow_schema), where a FEATURE is
//
//	{"dtype": "int64", "_type": "Value"}                              a scalar
//	{"feature": {"dtype": "float32", "_type": "Value"}, "length": 6,
//	 "_type": "Sequence"}                                             a vector of 6
//
// and length -1 is a list of any length. These are the types LeRobot's
// get_hf_features_from_features (lerobot/datasets/utils.py) builds from
// info.json: shape [1] is a Value, shape [N] a Sequence of length N. Every
// row tandem writes has exactly that length.

// hfMetadataKey is the parquet key-value metadata key datasets reads.
const hfMetadataKey = "huggingface"

// hfFeature is one column's feature as datasets serialises it.
type hfFeature map[string]any

func hfValue(dtype string) hfFeature { return hfFeature{"dtype": dtype, "_type": "Value"} }

func hfSequence(dtype string, length int) hfFeature {
	return hfFeature{"feature": hfValue(dtype), "length": length, "_type": "Sequence"}
}

// statsFeature is the type of a per-episode stats column: float64 vectors
// of the feature's size, and count as a one-element int64 list.
func statsFeature(col string, dim int) hfFeature {
	if strings.HasSuffix(col, "/count") {
		return hfSequence("int64", 1)
	}
	return hfSequence("float64", dim)
}

// hfMetadata builds the "huggingface" metadata value for a parquet schema:
// vector columns from vec, scalar columns from their parquet type. The
// features are listed in column order.
func hfMetadata(schema *parquet.Schema, vec func(col string) (hfFeature, bool)) (string, error) {
	var b bytes.Buffer
	b.WriteString(`{"info":{"features":{`)
	for i, f := range schema.Fields() {
		ft, ok := vec(f.Name())
		if !ok {
			dtype, err := hfDtype(f)
			if err != nil {
				return "", err
			}
			ft = hfValue(dtype)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(f.Name())
		js, err := json.Marshal(ft)
		if err != nil {
			return "", err
		}
		b.Write(name)
		b.WriteByte(':')
		b.Write(js)
	}
	b.WriteString(`}}}`)
	return b.String(), nil
}

// hfDtype names the datasets dtype of a scalar parquet column.
func hfDtype(f parquet.Field) (string, error) {
	t := f.Type()
	switch t.Kind() {
	case parquet.Boolean:
		return "bool", nil
	case parquet.Int32:
		return "int32", nil
	case parquet.Int64:
		return "int64", nil
	case parquet.Float:
		return "float32", nil
	case parquet.Double:
		return "float64", nil
	case parquet.ByteArray:
		if lt := t.LogicalType(); lt != nil && lt.String() == "STRING" {
			return "string", nil
		}
		return "binary", nil
	}
	return "", fmt.Errorf("demos: parquet column %s of type %s has no datasets dtype", f.Name(), t)
}
