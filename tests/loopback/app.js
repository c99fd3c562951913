// A LoopBack 3 app with the seed models, in memory, for comparing answers.
const loopback = require('loopback');
const app = loopback();
app.use(require('cors')({origin: true, credentials: true}));
const ds = loopback.createDataSource({connector: 'memory'});
const Assembly = ds.createModel('Assembly', {id: {type: Number, id: true, generated: true}, name: {type: String, required: true}}, {plural: 'Assemblies', strict: true});
const Part = ds.createModel('Part', {id: {type: Number, id: true, generated: true}, partNumber: {type: String, required: true}}, {strict: true});
const AssemblyPart = ds.createModel('AssemblyPart', {}, {});
app.model(AssemblyPart);
Assembly.hasAndBelongsToMany(Part, {as: 'parts', through: AssemblyPart});
Part.hasAndBelongsToMany(Assembly, {as: 'assemblies', through: AssemblyPart});
app.model(Assembly);
app.model(Part);
app.use(loopback.rest());
app.use(require('strong-error-handler')({debug: false, log: false}));
const port = process.env.PORT || 3100;
app.listen(port, () => console.log(`LoopBack on ${port}`));
