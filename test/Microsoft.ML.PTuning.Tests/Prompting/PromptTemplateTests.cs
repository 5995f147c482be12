using Microsoft.ML.PTuning.Tests.Pipeline;
using Microsoft.ML.PTuning.Tokenization;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Prompting;

public class PromptTemplateTests
{
    private static EncoderTokenizer Tokenizer(string modelType) => EncoderTokenizer.FromFolder(TinyBaseModel.Get(modelType), modelType);

    // Rendering equals the tokenizer reading the whole filled-in string, as Hugging Face would tokenize it.
    [Theory]
    [InlineData("roberta", "{Sentence1} It was {mask}.")]
    [InlineData("roberta", "Review: {Sentence1} {mask}!")]
    [InlineData("roberta", "{mask} : {Sentence1}")]
    [InlineData("bert", "{Sentence1} It was {mask}.")]
    [InlineData("bert", "Review: {Sentence1} {mask}!")]
    public void ASingleSentenceRendersAsTheWholeFilledInTextAndHasOneMask(string modelType, string text)
    {
        var tokenizer = Tokenizer(modelType);
        var template = PromptTemplate.Create(text, tokenizer, defaultPromptLength: 4);
        const string sentence = "my card was lost in the transfer";
        EncodedText rendered = template.Encode(sentence, null, 64);
        string filled = text.Replace("{Sentence1}", sentence).Replace("{mask}", tokenizer.MaskToken);
        Assert.Equal(tokenizer.Encode(filled, null, 64).InputIds, rendered.InputIds);
        Assert.Single(rendered.InputIds, id => id == tokenizer.MaskTokenId);
        Assert.Equal(tokenizer.ClsTokenId, rendered.InputIds[0]);
        Assert.Equal(tokenizer.SepTokenId, rendered.InputIds[^1]);
        Assert.All(rendered.TokenTypeIds, t => Assert.Equal(0, t));
    }

    [Fact]
    public void APairTemplatePutsBothSentencesAndBertTypesFollowTheTemplatesSeparator()
    {
        var tokenizer = Tokenizer("bert");
        var template = PromptTemplate.Create("{Sentence1} [SEP] {mask} , {Sentence2}", tokenizer, 4);
        Assert.True(template.HasSentence2);
        EncodedText rendered = template.Encode("the dog is on my", "card lost", 64);
        Assert.Equal(tokenizer.Encode($"the dog is on my [SEP] {tokenizer.MaskToken} , card lost", null, 64).InputIds, rendered.InputIds);
        int sep = Array.IndexOf(rendered.InputIds, tokenizer.SepTokenId);
        Assert.True(sep > 0 && sep < rendered.InputIds.Length - 1);
        Assert.All(rendered.TokenTypeIds.Take(sep + 1), t => Assert.Equal(0, t));
        Assert.All(rendered.TokenTypeIds.Skip(sep + 1), t => Assert.Equal(1, t));
        Assert.True(Array.IndexOf(rendered.InputIds, tokenizer.MaskTokenId) > sep);
    }

    [Theory]
    [InlineData("roberta")]
    [InlineData("bert")]
    public void TruncationCutsTheSentencesLongestFirstNeverTheTemplate(string modelType)
    {
        var tokenizer = Tokenizer(modelType);
        var template = PromptTemplate.Create("{Sentence1} ? {mask} , {Sentence2} .", tokenizer, 4);
        string longText = string.Join(' ', Enumerable.Repeat("the dog is on my card", 10));
        const string shortText = "lost";
        const int budget = 20;
        EncodedText rendered = template.Encode(longText, shortText, budget);
        Assert.Equal(budget, rendered.InputIds.Length);
        // The end is intact: mask, the template's text around the second sentence, the short sentence whole, the end token.
        var untruncated = template.Encode(longText, shortText, 512).InputIds;
        int tail = untruncated.Length - Array.IndexOf(untruncated, tokenizer.MaskTokenId) + 3;   // "?" piece(s) before the mask too
        Assert.Equal(untruncated[^(tail - 3)..], rendered.InputIds[^(tail - 3)..]);
        Assert.Single(rendered.InputIds, id => id == tokenizer.MaskTokenId);
        // The long sentence lost its end: its kept tokens are the first ones.
        var firstSentence = new List<int>();
        tokenizer.Tokenize(longText, firstSentence);
        int kept = budget - (untruncated.Length - firstSentence.Count);
        Assert.True(kept > 0);
        Assert.Equal(firstSentence.Take(kept), rendered.InputIds.Skip(1).Take(kept));

        var tooSmall = Assert.Throws<ArgumentException>(() => template.Encode(longText, shortText, template.FixedTokens));
        Assert.Equal("PromptTemplate", tooSmall.ParamName);
    }

    [Fact]
    public void PromptSlotsBecomeNumberedNegativeIdsInTemplateOrder()
    {
        var tokenizer = Tokenizer("roberta");
        var template = PromptTemplate.Create("{prompt:2} {Sentence1} {prompt} {mask}.", tokenizer, defaultPromptLength: 3);
        Assert.Equal(5, template.PromptLength);
        Assert.Equal("{prompt:2} {Sentence1} {prompt:3} {mask}.", template.ResolvedText);
        int[] ids = template.Encode("the dog", null, 64).InputIds;
        Assert.Equal([-1, -2, -3, -4, -5], ids.Where(id => id < 0));
        Assert.Equal(-1, ids[1]);
        Assert.Equal(template.Encode("the dog", null, 64).InputIds, PromptTemplate.Create(template.ResolvedText, tokenizer, 99).Encode("the dog", null, 64).InputIds);
        Assert.True(PromptTemplate.UsesPrefixLength("{prompt} {Sentence1} {mask}"));
        Assert.False(PromptTemplate.UsesPrefixLength("{prompt:3} {Sentence1} {mask}"));
    }

    [Fact]
    public void AMaskWrittenInASentenceIsReadAsTheUnknownToken()
    {
        var tokenizer = Tokenizer("roberta");
        var template = PromptTemplate.Create("{Sentence1} It was {mask}.", tokenizer, 4);
        int[] ids = template.Encode($"my {tokenizer.MaskToken} card", null, 64).InputIds;
        Assert.Single(ids, id => id == tokenizer.MaskTokenId);
        Assert.Contains(tokenizer.UnknownTokenId, ids);
    }

    [Theory]
    [InlineData("{Sentence1} It was good.", "no {mask}")]
    [InlineData("{Sentence1} {mask} {mask}", "2 {mask}")]
    [InlineData("It was {mask}.", "no {Sentence1}")]
    [InlineData("{Sentence1} {Sentence1} {mask}", "{Sentence1} more than once")]
    [InlineData("{Sentence1} {Mask}", "unknown slot '{Mask}'")]
    [InlineData("{Sentence1} {mask:2}", "only {prompt:N} takes a number")]
    [InlineData("{Sentence1} {mask} {prompt:x}", "positive whole number")]
    [InlineData("{Sentence1} {mask} {prompt:0}", "at least 1")]
    [InlineData("{Sentence1} {mask", "brace")]
    [InlineData("{Sentence1} <mask> {mask}", "renders 2 mask tokens")]
    public void AMalformedTemplateIsRefusedNamingTheOption(string text, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => PromptTemplate.Create(text, Tokenizer("roberta"), 4));
        Assert.Equal("PromptTemplate", error.ParamName);
        Assert.Contains(expected, error.Message);
    }
}
