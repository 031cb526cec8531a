package expr

// newMore covers the expressions outside the first group of New.
func newMore(name string) Any {
	switch name {
	}
	return &Raw{ExprName: name}
}
