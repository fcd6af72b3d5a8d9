package infer

import (
	"encoding/json"
	"testing"
)

// TestLocalKeyKeepsTheRecordedEncoding pins the input digest of a dataset
// run on one machine to the encoding its folders have always recorded (a
// JSON object of the flags, server addresses included, keys sorted), so
// that a folder made before Settings existed resumes with nothing
// explained again. The digests were made by the code before Settings.
func TestLocalKeyKeepsTheRecordedEncoding(t *testing.T) {
	stamp := mediaStamp{size: 1234, modTime: "2024-03-05T07:09:11.123456789"}
	const path, subtitle = "/tmp/emer-golden/c01.mp4", `I can't "believe" it.`
	for _, tc := range []struct {
		name            string
		s               Settings
		baseURL, asrURL string
		key, digest     string
	}{
		{
			name:    "local defaults",
			s:       Settings{Backend: "local", Mode: "end2end", Prompt: "emer", Frames: 8, Lang: "en", FPS: 2, Detector: "auto", Landmarks: "net", Rules: "emer-rules/2", Voice: "vocal/x"},
			baseURL: "http://127.0.0.1:8000/v1",
			key:     `{"asr_model":"","asr_url":"","audio":false,"backend":"local","base_url":"http://127.0.0.1:8000/v1","caption_model":"","detector":"auto","fps":2,"frames":8,"landmarks":"net","lang":"en","mode":"end2end","model":"","prompt":"emer","rules":"emer-rules/2"}`,
			digest:  "9e0051bb2fd04720cc702bb6a8eacb82fc236b50008d5581440491a821768f16",
		},
		{
			name: "llm with speech to text",
			s: Settings{Backend: "llm", Mode: "caption", Prompt: "affectgpt2025", Model: "Qwen/Qwen2.5-VL-7B-Instruct", CaptionModel: "cap<&>",
				Frames: 16, Audio: true, MaxTokens: 512, Lang: "zh", FPS: 2.5, Detector: "ssd", Landmarks: "tiny",
				ASR: true, ASRModel: "whisper-1", Rules: "emer-rules/2", PromptSHA256: "abc"},
			baseURL: "http://gpu1:8000/v1", asrURL: "http://asr:9000/v1",
			key:    `{"asr_model":"whisper-1","asr_url":"http://asr:9000/v1","audio":true,"backend":"llm","base_url":"http://gpu1:8000/v1","caption_model":"cap\u003c\u0026\u003e","detector":"ssd","fps":2.5,"frames":16,"landmarks":"tiny","lang":"zh","mode":"caption","model":"Qwen/Qwen2.5-VL-7B-Instruct","prompt":"affectgpt2025","rules":"emer-rules/2"}`,
			digest: "6b7832b9f0fe9b0e2a778a0049c98dcda9fa3c5b38d4bac9f76036622d40b799",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := tc.s.localKey(tc.baseURL, tc.asrURL)
			if err != nil {
				t.Fatal(err)
			}
			if key != tc.key {
				t.Errorf("key\n got %s\nwant %s", key, tc.key)
			}
			if d := inputDigest(key, path, stamp, subtitle); d != tc.digest {
				t.Errorf("digest %s, want %s", d, tc.digest)
			}
		})
	}
}

// TestSettingsQueueKeyHasNoServers: the settings a queued item carries
// hold no server address or key, whatever the process's own are.
func TestSettingsQueueKeyHasNoServers(t *testing.T) {
	s := Settings{Backend: "llm", Mode: "end2end", Prompt: "emer", Model: "m", Frames: 8, Lang: "en", FPS: 2, Detector: "auto", Landmarks: "net", ASR: true, ASRModel: "w"}.WithVersions()
	key, err := queueKey(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(key), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"base_url", "asr_url", "api_key"} {
		if _, ok := m[k]; ok {
			t.Errorf("queued settings hold %s: %s", k, key)
		}
	}
	if m["prompt_sha256"] == "" || m["rules"] == "" {
		t.Errorf("queued settings lack the versions of this emer: %s", key)
	}
}
