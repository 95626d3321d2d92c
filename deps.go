//go:build tools

package tools

import (
	_ "github.com/ByteArena/box2d"
	_ "github.com/chromedp/chromedp"
	_ "github.com/foxglove/mcap/go/mcap"
	_ "github.com/go-gl/mathgl/mgl64"
	_ "github.com/gorilla/websocket"
	_ "github.com/gvalkov/golang-evdev"
	_ "github.com/labstack/echo/v4"
	_ "github.com/parquet-go/parquet-go"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/cobra"
	_ "modernc.org/sqlite"
	_ "golang.org/x/sys/unix"
)
