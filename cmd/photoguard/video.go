package main

import (
	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect/track"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/redact/video"
)

// videoOptions maps the video settings onto the pipeline's (nil: videos are
// not published). wiring.go sets pipeline.Options.Video from it.
func videoOptions(cfg *config.Config) *pipeline.VideoOptions {
	v := cfg.Video
	if !v.Enabled {
		return nil
	}
	return &pipeline.VideoOptions{
		Limits: video.Limits{
			MaxSeconds: float64(v.MaxSeconds),
			MaxSide:    v.MaxSourceSide,
			MaxPixels:  int64(v.MaxSourceSide) * int64(v.MaxSourceSide) * 9 / 16,
			MaxFPS:     float64(v.MaxSourceFPS),
			MaxStreams: v.MaxStreams,
		},
		MaxFileBytes: int64(v.MaxFileMB) << 20,
		LivePhotos:   v.LivePhotos,
		KeepAudio:    v.Audio == "keep",
		MaxSide:      v.MaxSide,
		MaxFPS:       float64(v.FPS),
		AnalysisFPS:  v.AnalysisFPS,
		CRF:          v.Quality,
		Rule:         track.Rule{MinFrames: v.MinFrames, MinShare: v.MinShare},
		Timeout:      v.Timeout,
	}
}
