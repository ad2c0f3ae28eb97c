const { src, dest } = require('gulp');

// tsc emits only JavaScript; n8n also needs the icons next to the compiled nodes and credentials.
function copyIcons() {
	return src(['nodes/**/*.{png,svg}', 'credentials/**/*.{png,svg}'], { base: '.', encoding: false }).pipe(dest('dist'));
}

exports['build:icons'] = copyIcons;
