package sound

import "github.com/knhk/knhk/lang/source"

func spanOf(start, end int) source.Span {
	return source.Span{Start: source.Pos(start), End: source.Pos(end)}
}
