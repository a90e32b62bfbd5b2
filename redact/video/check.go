package video

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// boxes is the allow-list of the published file's box tree: for each
// container, the boxes it may hold. A box not listed under its parent is
// refused: udta content, meta items, uuid boxes, chapters (chpl), GPS (©xyz),
// tref, timecode and data tracks all fail.
var boxes = map[string]map[string]bool{
	"":     {"ftyp": true, "moov": true, "free": true, "mdat": true},
	"moov": {"mvhd": true, "trak": true, "udta": true},
	"trak": {"tkhd": true, "edts": true, "mdia": true},
	"edts": {"elst": true},
	"mdia": {"mdhd": true, "hdlr": true, "minf": true},
	"minf": {"vmhd": true, "smhd": true, "dinf": true, "stbl": true},
	"dinf": {"dref": true},
	"stbl": {"stsd": true, "stts": true, "stss": true, "ctts": true, "stsc": true, "stsz": true,
		"stco": true, "co64": true, "sgpd": true, "sbgp": true, "sdtp": true},
	// ffmpeg always writes an empty iTunes item list: udta > meta > hdlr,
	// ilst. An item in it (a title, a date, a location) is refused.
	"udta": {"meta": true},
	"meta": {"hdlr": true, "ilst": true},
}

// CheckBoxes walks an MP4 file's box tree against the allow-list, and
// checks that no creation or modification date is set (mvhd, tkhd, mdhd),
// that the item list is empty, and that nothing follows the last box.
func CheckBoxes(data []byte) error {
	return walkBoxes(data, "", 0)
}

func walkBoxes(data []byte, parent string, depth int) error {
	if depth > 8 {
		return errors.New("boxes nested too deep")
	}
	for len(data) > 0 {
		if len(data) < 8 {
			return fmt.Errorf("%d bytes after the last box in %q", len(data), or(parent, "the file"))
		}
		size := uint64(binary.BigEndian.Uint32(data))
		typ := string(data[4:8])
		head := uint64(8)
		switch size {
		case 1:
			if len(data) < 16 {
				return fmt.Errorf("box %q: truncated size", typ)
			}
			size, head = binary.BigEndian.Uint64(data[8:]), 16
		case 0:
			size = uint64(len(data))
		}
		if size < head || size > uint64(len(data)) {
			return fmt.Errorf("box %q: size %d does not fit", typ, size)
		}
		if !boxes[parent][typ] {
			return fmt.Errorf("box %q is not allowed in %q", printable(typ), or(parent, "the file"))
		}
		body := data[head:size]
		switch typ {
		case "mvhd", "tkhd", "mdhd":
			if err := zeroDates(typ, body); err != nil {
				return err
			}
		case "ilst":
			if len(body) != 0 {
				return errors.New("the item list (ilst) is not empty")
			}
		case "meta":
			if len(body) < 4 {
				return errors.New("meta box truncated")
			}
			body = body[4:] // version and flags
		}
		if _, container := boxes[typ]; container {
			if err := walkBoxes(body, typ, depth+1); err != nil {
				return err
			}
		}
		data = data[size:]
	}
	return nil
}

// zeroDates checks a header box's creation and modification time.
func zeroDates(typ string, body []byte) error {
	if len(body) < 4 {
		return fmt.Errorf("%s truncated", typ)
	}
	var created, modified uint64
	switch body[0] {
	case 0:
		if len(body) < 12 {
			return fmt.Errorf("%s truncated", typ)
		}
		created, modified = uint64(binary.BigEndian.Uint32(body[4:])), uint64(binary.BigEndian.Uint32(body[8:]))
	case 1:
		if len(body) < 20 {
			return fmt.Errorf("%s truncated", typ)
		}
		created, modified = binary.BigEndian.Uint64(body[4:]), binary.BigEndian.Uint64(body[12:])
	default:
		return fmt.Errorf("%s version %d", typ, body[0])
	}
	if created != 0 || modified != 0 {
		return fmt.Errorf("%s carries a date", typ)
	}
	return nil
}

func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// Want is what the published file must be.
type Want struct {
	Width, Height int
	// Audio is whether it has its one audio stream.
	Audio bool
	// Frames is how many frames were encoded.
	Frames int
}

// tags allowed in ffprobe's view of the published file, with their only
// allowed values ("" allows any value of the key).
var (
	formatTags = map[string]string{"major_brand": "isom", "minor_version": "512", "compatible_brands": "isomiso2avc1mp41"}
	streamTags = map[string][]string{
		"language":     {"und"},
		"handler_name": {"VideoHandler", "SoundHandler"},
		"vendor_id":    {"[0][0][0][0]"},
		"encoder":      {"Lavc libx264"},
	}
)

// Check verifies the file at path as it will be published: its box tree
// (CheckBoxes) and ffprobe's view of it (one H.264 stream of the wanted
// size and frame count, one AAC stream only when audio is kept, no chapter,
// no tag outside the allow-list).
func Check(ctx context.Context, tools Tools, path string, data []byte, want Want) error {
	if err := CheckBoxes(data); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd, stderr := command(ctx, tools.ffprobe(), &Input{File: f}, "-v", "error", "-hide_banner",
		"-print_format", "json", "-count_packets", "-show_format", "-show_streams", "-show_chapters", inputURL)
	out := &capped{n: 1 << 20}
	cmd.Stdout = out
	err = start(cmd)
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		return childErr(ctx, "ffprobe of the output", err, stderr)
	}
	return checkProbe(out.buf.Bytes(), want)
}

func checkProbe(data []byte, want Want) error {
	var pj struct {
		Streams []struct {
			CodecType string            `json:"codec_type"`
			CodecName string            `json:"codec_name"`
			Width     int               `json:"width"`
			Height    int               `json:"height"`
			Packets   string            `json:"nb_read_packets"`
			Tags      map[string]string `json:"tags"`
		} `json:"streams"`
		Chapters []json.RawMessage `json:"chapters"`
		Format   struct {
			Tags map[string]string `json:"tags"`
		} `json:"format"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&pj); err != nil {
		return fmt.Errorf("ffprobe's view of the output: %w", err)
	}
	if len(pj.Chapters) > 0 {
		return errors.New("the output has chapters")
	}
	for _, k := range sortedKeys(pj.Format.Tags) {
		if v, ok := formatTags[k]; !ok || v != pj.Format.Tags[k] {
			return fmt.Errorf("the output carries the tag %q", k)
		}
	}
	var video, audio int
	for _, s := range pj.Streams {
		switch {
		case s.CodecType == "video" && s.CodecName == "h264":
			video++
			if s.Width != want.Width || s.Height != want.Height {
				return fmt.Errorf("the output is %dx%d, not the %dx%d encoded", s.Width, s.Height, want.Width, want.Height)
			}
			if want.Frames > 0 && s.Packets != fmt.Sprint(want.Frames) {
				return fmt.Errorf("the output has %s frames, not the %d encoded", s.Packets, want.Frames)
			}
		case s.CodecType == "audio" && s.CodecName == "aac" && want.Audio:
			audio++
		default:
			return fmt.Errorf("the output has a %s stream (%s) it should not have", s.CodecType, s.CodecName)
		}
		for _, k := range sortedKeys(s.Tags) {
			ok := false
			for _, v := range streamTags[k] {
				ok = ok || v == s.Tags[k]
			}
			if !ok {
				return fmt.Errorf("the output's %s stream carries the tag %q", s.CodecType, k)
			}
		}
	}
	if video != 1 || audio > 1 {
		return fmt.Errorf("the output has %d video and %d audio streams", video, audio)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
