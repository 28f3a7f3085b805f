module github.com/khqrbot/khqrbot

go 1.26.0
