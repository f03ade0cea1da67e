SELECT diff(ms) OVER () FROM layers
